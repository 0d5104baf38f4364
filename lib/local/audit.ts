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

/** CloudTrail spells parameter keys in lower camel case: ChannelName becomes channelName. */
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v))
    out[k.charAt(0).toLowerCase() + k.slice(1)] = camelKeys(val);
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
    userAgent: c.userAgent,
    requestParameters: camelKeys(c.requestParameters),
    responseElements: c.responseElements === undefined ? null : camelKeys(c.responseElements),
    requestID: c.requestID,
    eventID: randomUUID(),
    eventType: 'AwsApiCall',
  };
  if (c.errorCode) {
    rec['errorCode'] = c.errorCode;
    rec['errorMessage'] = c.errorMessage;
  }
  return rec;
}

export class AuditLog {
  readonly path: string;

  constructor(dataDir: string) {
    const dir = join(dataDir, 'audit');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'cloudtrail.jsonl');
  }

  write(c: AuditCall): void {
    appendFileSync(this.path, `${JSON.stringify(cloudTrailRecord(c))}\n`);
  }
}
