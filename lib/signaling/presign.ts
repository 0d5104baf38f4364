/**
 * SigV4 query-string presigning of the signaling WebSocket URL with @smithy/signature-v4
 * (kvs-wire.md §3): `GET /`, `host` the only signed header, the empty-body hash, the session
 * token inside the canonical query, `X-Amz-Expires` 299 as the JS SDK.
 */
import type * as Crypto from 'node:crypto';
import { crypto, signatureV4 } from '../lazy.js';

import type { AwsCredentials } from '../channel/credentials.js';

export type { AwsCredentials } from '../channel/credentials.js';

/** node:crypto behind the Checksum interface @smithy/signature-v4 expects. */
class NodeSha256 {
  private readonly h: Crypto.Hash | ReturnType<typeof Crypto.createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) {
      this.h = crypto().createHash('sha256');
    } else {
      const key =
        typeof secret === 'string'
          ? secret
          : ArrayBuffer.isView(secret)
            ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
            : Buffer.from(secret);
      this.h = crypto().createHmac('sha256', key);
    }
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    const buf =
      typeof data === 'string'
        ? Buffer.from(data, 'utf8')
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data);
    this.h.update(buf);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    throw new Error('reset is not supported');
  }
}

export interface PresignInput {
  /** `wss://host[:port]` as GetSignalingChannelEndpoint returns it. */
  endpoint: string;
  channelArn: string;
  /** Viewers only. */
  clientId?: string | undefined;
  region: string;
  credentials: AwsCredentials;
  /** The signing time (already corrected for clock skew). */
  date: Date;
  /** Default 299, as the official JS SDK. */
  expiresSeconds?: number;
  /** Signing service; always `kinesisvideo` for KVS. */
  service?: string;
}

/** Returns the presigned `wss://` URL. */
export async function presignSignalingUrl(input: PresignInput): Promise<string> {
  const url = new URL(input.endpoint);
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
    throw new Error(`signaling endpoint must be wss://, got ${input.endpoint}`);
  }
  const query: Record<string, string> = { 'X-Amz-ChannelARN': input.channelArn };
  if (input.clientId !== undefined) query['X-Amz-ClientId'] = input.clientId;
  const signer = new (signatureV4().SignatureV4)({
    service: input.service ?? 'kinesisvideo',
    region: input.region,
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken ? { sessionToken: input.credentials.sessionToken } : {}),
    },
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const path = url.pathname === '' ? '/' : url.pathname;
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
      query,
      headers: { host: url.host },
    },
    { expiresIn: input.expiresSeconds ?? 299, signingDate: input.date },
  );
  const q = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]))
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
  return `${url.protocol}//${url.host}${path}?${q}`;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
