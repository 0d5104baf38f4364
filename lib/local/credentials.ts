/**
 * The service's principals: access keys with their secrets, optional session tokens and
 * expiry, and the IAM-style policies attached to each. A default key pair with full access is
 * made on first start and kept in the data directory so it survives restarts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';
import { atomicWriteFileSync } from './atomic-file.js';
import { FULL_ACCESS_POLICY, validatePolicy, type PolicyDocument } from './policy.js';
import type { CredentialRecord } from './sigv4.js';

export interface LocalPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it (`x-amz-security-token` / `X-Amz-Security-Token`). */
  sessionToken?: string;
  /** After this instant the credential is refused with ExpiredTokenException. */
  expiration?: Date;
  /** Shown in CloudTrail records and AccessDenied messages; defaults to the key id. */
  userName?: string;
  /** Identity policies; none means every call is denied (IAM's default deny). */
  policies?: PolicyDocument[];
}

export interface Principal extends CredentialRecord {
  userName: string;
  policies: PolicyDocument[];
  /** Only the default key pair may call the local admin API. */
  admin: boolean;
  /** Values of policy variables, e.g. `credentials-iot:ThingName` for IoT-issued credentials. */
  policyVariables?: Readonly<Record<string, string>>;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomFrom(alphabet: string, n: number): string {
  return Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}

export function newKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: `AKIA${randomFrom(UPPER_ALNUM, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x'),
  };
}

/** Loads `<dataDir>/credentials.json`, making the default key pair on first start. */
export function defaultKeyPair(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8')) as {
      accessKeyId: string;
      secretAccessKey: string;
    };
    if (typeof j.accessKeyId === 'string' && typeof j.secretAccessKey === 'string') return j;
  }
  const kp = newKeyPair();
  atomicWriteFileSync(file, JSON.stringify(kp));
  return kp;
}

export class CredentialTable {
  private readonly byKey = new Map<string, Principal>();

  constructor(principals: LocalPrincipal[], adminKeyId?: string) {
    for (const p of principals) {
      if (!p.accessKeyId || !p.secretAccessKey)
        throw invalidArgument('a principal needs accessKeyId and secretAccessKey');
      if (this.byKey.has(p.accessKeyId))
        throw invalidArgument(`duplicate access key ${p.accessKeyId}`);
      const rec: Principal = {
        accessKeyId: p.accessKeyId,
        secretAccessKey: p.secretAccessKey,
        userName: p.userName ?? p.accessKeyId,
        policies: (p.policies ?? []).map((d) => validatePolicy(d)),
        admin: p.accessKeyId === adminKeyId,
      };
      if (p.sessionToken !== undefined) rec.sessionToken = p.sessionToken;
      if (p.expiration !== undefined) {
        // An invalid date would compare false against every instant and so never expire.
        const at = p.expiration instanceof Date ? p.expiration.getTime() : NaN;
        if (!Number.isFinite(at)) {
          throw invalidArgument(
            `principal ${p.accessKeyId}: expiration must be a valid Date, got ${String(p.expiration)}`,
          );
        }
        rec.expiresAt = at;
      }
      this.byKey.set(p.accessKeyId, rec);
    }
  }

  lookup(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /**
   * Adds temporary credentials (the IoT credentials endpoint issues them). Expired ones are
   * dropped an hour after their expiry: until then they are still answered with
   * ExpiredTokenException rather than as unknown keys.
   */
  addTemporary(p: Principal & { expiresAt: number }, now: number): void {
    for (const [k, rec] of this.byKey) {
      if (rec.expiresAt !== undefined && rec.expiresAt < now - 3_600_000) this.byKey.delete(k);
    }
    if (this.byKey.has(p.accessKeyId))
      throw invalidArgument(`duplicate access key ${p.accessKeyId}`);
    this.byKey.set(p.accessKeyId, { ...p, policies: p.policies.map((d) => validatePolicy(d)) });
  }

  static withDefault(
    dataDir: string,
    extra: LocalPrincipal[] = [],
  ): { table: CredentialTable; defaultPrincipal: LocalPrincipal } {
    const kp = defaultKeyPair(dataDir);
    const defaultPrincipal: LocalPrincipal = {
      ...kp,
      userName: 'local-admin',
      policies: [FULL_ACCESS_POLICY],
    };
    return {
      table: new CredentialTable([defaultPrincipal, ...extra], kp.accessKeyId),
      defaultPrincipal,
    };
  }
}
