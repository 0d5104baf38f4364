/** Fixtures for the signaling-client suites: a local service with short limits, clients, waits. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalKvs, type LocalKvs, type LocalKvsOptions } from '../../lib/local/index.js';
import { SignalingClient, type SignalingClientOptions } from '../../lib/signaling/index.js';

export function tempDir(prefix = 'kvs-signaling-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function startService(
  opts: LocalKvsOptions = {},
): Promise<{ svc: LocalKvs; dataDir: string }> {
  const dataDir = opts.dataDir ?? tempDir('kvs-signaling-test-');
  const svc = await startLocalKvs({
    port: 0,
    turn: false,
    ...opts,
    dataDir,
    log: () => undefined,
  });
  return { svc, dataDir };
}

/** Client options pointing at the local service, with short retry delays for tests. */
export function clientOptions(
  svc: LocalKvs,
  extra: Partial<SignalingClientOptions> & Pick<SignalingClientOptions, 'role'>,
): SignalingClientOptions {
  return {
    region: svc.region,
    endpoint: svc.endpoint,
    caCertPath: svc.caCertPath,
    credentials: svc.credentials,
    retry: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 12 },
    ...extra,
  };
}

/** Resolves with the next `event` of `client` (bounded by timeoutMs). */
export function next<T extends unknown[]>(
  client: SignalingClient,
  event: string,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      client.off(event as 'goAway', handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const handler = (...args: unknown[]): void => {
      clearTimeout(t);
      client.off(event as 'goAway', handler);
      resolve(args as T);
    };
    client.on(event as 'goAway', handler);
  });
}

/** Polls `cond` every 50 ms until true, failing after timeoutMs. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Control-plane calls recorded in the service's CloudTrail-shaped audit log. */
export interface AuditEvent {
  eventName: string;
  errorCode?: string;
  requestParameters?: Record<string, unknown> | null;
}

export function auditEvents(svc: LocalKvs): AuditEvent[] {
  let text = '';
  try {
    text = readFileSync(svc.auditLogPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

export function countAudit(svc: LocalKvs, eventName: string): number {
  return auditEvents(svc).filter((e) => e.eventName === eventName).length;
}

/** Successful calls of a signaling operation as the service's /metrics counts them. */
export async function serviceMetric(svc: LocalKvs, pattern: RegExp): Promise<number> {
  const res = await fetchText(svc);
  let total = 0;
  for (const line of res.split('\n')) {
    if (line.startsWith('#')) continue;
    if (pattern.test(line)) total += Number(line.trim().split(/\s+/).pop());
  }
  return total;
}

async function fetchText(svc: LocalKvs): Promise<string> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(svc.metricsUrl, { ca: svc.caCert }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

export const offer = { type: 'offer' as const, sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
export const answer = {
  type: 'answer' as const,
  sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n',
};
export const candidate = (
  n: number,
): { candidate: string; sdpMid: string; sdpMLineIndex: number } => ({
  candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50000 + n} typ host`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});
