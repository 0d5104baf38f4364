/**
 * CloudTrail-shaped audit records of control-plane calls, one JSON object per line in
 * `<dataDir>/audit/cloudtrail.jsonl`, following the seed's example entry.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

export interface AuditIdentity {
  accessKeyId: string;
  userName: string;
  accountId: string;
}

export interface AuditCall {
  eventName: string;
  identity: AuditIdentity | undefined;
  region: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: unknown;
  responseElements: unknown;
  requestID: string;
  errorCode?: string;
  errorMessage?: string;
  time: number;
}

/** The most bytes one audit line may take (CloudTrail also bounds what a record holds). */
export const MAX_AUDIT_RECORD_BYTES = 16 * 1024;
/** Deeper parameters are replaced by a marker: also what keeps the copy's recursion shallow. */
export const MAX_AUDIT_DEPTH = 16;
/** Longer strings (parameters, user agent, error message) are cut to this many characters. */
export const MAX_AUDIT_STRING = 1024;
/** At most this many entries of one object or array are kept. */
export const MAX_AUDIT_ENTRIES = 100;

function clip(s: string): string {
  return s.length <= MAX_AUDIT_STRING
    ? s
    : `${s.slice(0, MAX_AUDIT_STRING)}...[${s.length - MAX_AUDIT_STRING} more characters]`;
}

/**
 * CloudTrail spells parameter keys in lower camel case: ChannelName becomes channelName.
 * The copy is bounded in depth, entries and string length, so that any body the service
 * accepted can be recorded: a request nested 200,000 levels deep must not overflow the stack.
 */
export function camelKeys(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return clip(v);
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= MAX_AUDIT_DEPTH) return `[omitted: nested deeper than ${MAX_AUDIT_DEPTH} levels]`;
  if (Array.isArray(v)) {
    const out = v.slice(0, MAX_AUDIT_ENTRIES).map((x) => camelKeys(x, depth + 1));
    if (v.length > MAX_AUDIT_ENTRIES) out.push(`[${v.length - MAX_AUDIT_ENTRIES} more entries]`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    if (n++ === MAX_AUDIT_ENTRIES) {
      out['...'] = 'more keys omitted';
      break;
    }
    const key = clip(k);
    // defineProperty, not assignment: a "__proto__" key in the body must stay a plain key.
    Object.defineProperty(out, key.charAt(0).toLowerCase() + key.slice(1), {
      value: camelKeys((v as Record<string, unknown>)[k], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export function cloudTrailRecord(c: AuditCall): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    eventVersion: '1.05',
    userIdentity: c.identity
      ? {
          type: 'IAMUser',
          principalId: c.identity.accessKeyId,
          arn: `arn:aws:iam::${c.identity.accountId}:user/${c.identity.userName}`,
          accountId: c.identity.accountId,
          accessKeyId: c.identity.accessKeyId,
          userName: c.identity.userName,
        }
      : { type: 'Unknown' },
    eventTime: new Date(c.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'kinesisvideo.amazonaws.com',
    eventName: c.eventName,
    awsRegion: c.region,
    sourceIPAddress: c.sourceIPAddress,
    userAgent: clip(c.userAgent),
    requestParameters: camelKeys(c.requestParameters),
    responseElements: c.responseElements === undefined ? null : camelKeys(c.responseElements),
    requestID: c.requestID,
    eventID: randomUUID(),
    eventType: 'AwsApiCall',
  };
  if (c.errorCode) {
    rec['errorCode'] = c.errorCode;
    rec['errorMessage'] = clip(c.errorMessage ?? '');
  }
  return rec;
}

/**
 * One record as a JSON line of at most MAX_AUDIT_RECORD_BYTES. When the bounded parameters
 * and response still do not fit, both are dropped and the record says so and how big it was.
 */
export function auditLine(c: AuditCall): string {
  const rec = cloudTrailRecord(c);
  const line = JSON.stringify(rec);
  const bytes = Buffer.byteLength(line);
  if (bytes <= MAX_AUDIT_RECORD_BYTES) return line;
  rec['requestParameters'] = null;
  rec['responseElements'] = null;
  rec['additionalEventData'] = { recordTruncated: true, originalRecordBytes: bytes };
  return JSON.stringify(rec);
}

export class AuditLog {
  readonly path: string;

  constructor(dataDir: string) {
    const dir = join(dataDir, 'audit');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'cloudtrail.jsonl');
  }

  write(c: AuditCall): void {
    appendFileSync(this.path, `${auditLine(c)}\n`);
  }
}
