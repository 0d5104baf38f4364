/** Shared fixtures for the local-service suites: a service on a temp data dir and real clients. */
import { createHash, createHmac, type Hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoSignalingClient } from '@aws-sdk/client-kinesis-video-signaling';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4RequestSigner } from 'amazon-kinesis-video-streams-webrtc';
import WebSocket from 'ws';
import { startLocalKvs, type LocalKvs, type LocalKvsOptions } from '../../lib/local/index.js';
import { rawDataText } from '../../lib/ws-data.js';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function tempDir(prefix = 'kvs-local-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a service on a fresh data dir with TURN off unless asked; collects log lines. */
export async function startTestService(
  opts: LocalKvsOptions = {},
): Promise<{ svc: LocalKvs; dataDir: string; logs: string[] }> {
  const dataDir = opts.dataDir ?? tempDir();
  const logs: string[] = [];
  const svc = await startLocalKvs({
    port: 0,
    turn: false,
    ...opts,
    dataDir,
    log: (l) => logs.push(l),
  });
  return { svc, dataDir, logs };
}

export function controlClient(svc: LocalKvs, creds: Creds = svc.credentials): KinesisVideoClient {
  return new KinesisVideoClient({
    region: svc.region,
    endpoint: svc.endpoint,
    credentials: { ...creds },
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: svc.caCert }) },
  });
}

export function signalingClient(
  svc: LocalKvs,
  endpoint: string,
  creds: Creds = svc.credentials,
): KinesisVideoSignalingClient {
  return new KinesisVideoSignalingClient({
    region: svc.region,
    endpoint,
    credentials: { ...creds },
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: svc.caCert }) },
  });
}

/** Resolves with the error a promise rejects with; fails if it resolves. */
export async function rejection(
  p: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A raw `ws` client that queues what it receives so tests can await messages in order. */
export class WsProbe {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(rawDataText(data)) as Record<string, unknown>);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for the next unread message (bounded by `timeoutMs`). */
  async next(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.messages.length) {
      if (this.closeCode !== undefined)
        throw new Error(`socket closed (${this.closeCode}) before a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages[this.read++] as Record<string, unknown>;
  }

  private read = 0;

  get unread(): number {
    return this.messages.length - this.read;
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }
}

/** Presigns with the official JS SDK's signer (an implementation we did not write). */
export async function presignedUrl(
  svc: LocalKvs,
  channelArn: string,
  clientId?: string,
  creds: Creds = svc.credentials,
  date?: Date,
): Promise<string> {
  const signer = new SigV4RequestSigner(svc.region, creds);
  const q: Record<string, string> = { 'X-Amz-ChannelARN': channelArn };
  if (clientId !== undefined) q['X-Amz-ClientId'] = clientId;
  return signer.getSignedURL(svc.endpoint.replace('https://', 'wss://'), q, date);
}

/** Opens a raw WebSocket; resolves with the probe once open or rejects with the HTTP status. */
export function openWs(svc: LocalKvs, url: string): Promise<WsProbe> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca: svc.caCert });
    const probe = new WsProbe(ws);
    ws.once('open', () => resolve(probe));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const err = Object.assign(new Error(`HTTP ${res.statusCode ?? 0}`), {
          status: res.statusCode,
          errorType: String(res.headers['x-amzn-errortype'] ?? ''),
          body,
        });
        reject(err);
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

export async function connect(
  svc: LocalKvs,
  arn: string,
  clientId?: string,
  creds?: Creds,
): Promise<WsProbe> {
  return openWs(svc, await presignedUrl(svc, arn, clientId, creds));
}

export async function closeAll(...probes: (WsProbe | undefined)[]): Promise<void> {
  await Promise.all(
    probes.map(async (p) => {
      if (!p || p.closeCode !== undefined) return;
      p.ws.close();
      await Promise.race([p.closed, new Promise((r) => setTimeout(r, 3000))]);
      p.ws.terminate();
    }),
  );
}

export const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');

type Source = string | ArrayBuffer | ArrayBufferView;

const toBytes = (d: Source): string | Buffer =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? Buffer.from(d)
      : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** The hash the signer needs, over Node's crypto. */
export class Sha256 {
  private h: Hash | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: Source) {
    this.h = this.fresh();
  }
  private fresh(): Hash | ReturnType<typeof createHmac> {
    return this.secret ? createHmac('sha256', toBytes(this.secret)) : createHash('sha256');
  }
  update(d: Source): void {
    this.h.update(toBytes(d));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}

/** POSTs JSON to the service, header-signed by the AWS SDK's signer; resolves status and body. */
export function signedPost(
  svc: LocalKvs,
  path: string,
  body: unknown,
  creds: Creds = svc.credentials,
): Promise<{ status: number; errorType: string; body: Record<string, unknown> }> {
  return signedPostText(svc, path, JSON.stringify(body), creds);
}

/** As signedPost, with the body given as text (for bodies JSON.stringify cannot make). */
export async function signedPostText(
  svc: LocalKvs,
  path: string,
  text: string,
  creds: Creds = svc.credentials,
): Promise<{ status: number; errorType: string; body: Record<string, unknown> }> {
  const url = new URL(svc.endpoint);
  const signer = new SignatureV4({
    service: 'kinesisvideo',
    region: svc.region,
    credentials: { ...creds },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body: text,
  });
  return new Promise((resolve, reject) => {
    const req = request(
      `${svc.endpoint}${path}`,
      { method: 'POST', ca: svc.caCert, headers: signed.headers },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => (out += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            errorType: String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] as string,
            body: JSON.parse(out) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** GETs `/metrics` (Prometheus text). */
export function fetchMetrics(svc: LocalKvs): Promise<string> {
  return new Promise((resolve, reject) => {
    request(svc.metricsUrl, { ca: svc.caCert }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}
