/**
 * What a security and robustness probe of the local service found (issue 17), one test per
 * defect: a policy pattern that blocked the event loop, audit records that failed or grew with
 * the body, an oversized body that got a reset instead of a 413, a TLS connection that never
 * said hello, crossed SendAlexaOfferToMaster answers, and /metrics echoing any Origin.
 * Blocking is measured as event-loop delay, not as wall time.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import { SendAlexaOfferToMasterCommand } from '@aws-sdk/client-kinesis-video-signaling';
import type { LocalKvs } from '../../lib/local/index.js';
import { MAX_AUDIT_RECORD_BYTES } from '../../lib/local/audit.js';
import {
  closeAll,
  connect,
  controlClient,
  removeDir,
  signalingClient,
  signedPost,
  signedPostText,
  startTestService,
} from './helpers.js';

const WILDCARDS = {
  accessKeyId: 'AKIAWILDCARDS000001',
  secretAccessKey: 'wildcard-secret',
};

let svc: LocalKvs;
let dataDir: string;
let logs: string[];
let kv: KinesisVideoClient;

beforeAll(async () => {
  ({ svc, dataDir, logs } = await startTestService({
    limits: { tlsHandshakeTimeoutMs: 500, alexaAnswerTimeoutMs: 20_000 },
    principals: [
      {
        ...WILDCARDS,
        policies: [
          {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'kinesisvideo:DescribeSignalingChannel',
                Resource: 'arn:aws:kinesisvideo:*:*:channel/*-*-*-*-prod/*',
              },
            ],
          },
        ],
      },
    ],
  }));
  kv = controlClient(svc);
});

afterAll(async () => {
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

/** The largest event-loop delay seen while `fn` runs, in milliseconds. */
async function maxLoopDelayMs(fn: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    await fn();
  } finally {
    h.disable();
  }
  return h.max / 1e6;
}

describe('policy evaluation', () => {
  it('a Resource pattern with several wildcards does not block the event loop on a long ARN', async () => {
    // The probe measured 3.5 s at 400 dashes (11.9 s at 600) under the regular-expression matcher.
    const arn = `arn:aws:kinesisvideo:us-west-2:123456789012:channel/${'-'.repeat(400)}/1234567890123`;
    let answer: Awaited<ReturnType<typeof signedPost>> | undefined;
    const delay = await maxLoopDelayMs(async () => {
      answer = await signedPost(svc, '/describeSignalingChannel', { ChannelARN: arn }, WILDCARDS);
    });
    expect(answer).toMatchObject({ status: 401, errorType: 'AccessDeniedException' });
    // Generous for a busy machine: the linear matcher needs well under a millisecond here.
    expect(delay).toBeLessThan(1000);
  });
});

describe('audit records', () => {
  const records = (): Record<string, unknown>[] =>
    existsSync(svc.auditLogPath)
      ? readFileSync(svc.auditLogPath, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  const size = (): number => (existsSync(svc.auditLogPath) ? statSync(svc.auditLogPath).size : 0);

  it('records a call whose body nests 200,000 arrays deep in an unknown field', async () => {
    const depth = 200_000;
    const text = `{"ChannelName":"deep-1","Unknown":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const r = await signedPostText(svc, '/createSignalingChannel', text);
    expect(r.status).toBe(200);
    expect(logs.filter((l) => /audit write failed/.test(l))).toEqual([]);
    const rec = records().find(
      (x) =>
        x['eventName'] === 'CreateSignalingChannel' &&
        (x['requestParameters'] as Record<string, unknown> | null)?.['channelName'] === 'deep-1',
    );
    expect(rec).toBeDefined();
    expect(JSON.stringify(rec)).toMatch(/omitted: nested deeper than/);
  });

  it('bounds what a record holds: 20 refused 1 MB calls add at most 20 bounded records', async () => {
    const before = size();
    const lines = records().length;
    for (let i = 0; i < 20; i++) {
      // A 1,000,000-character name is refused (InvalidArgumentException) after parsing.
      const r = await signedPost(svc, '/createSignalingChannel', {
        ChannelName: `${i}`.padEnd(1_000_000, 'x'),
      });
      expect(r).toMatchObject({ status: 400, errorType: 'InvalidArgumentException' });
    }
    const added = records().slice(lines);
    expect(added).toHaveLength(20);
    for (const rec of added) {
      expect(rec).toMatchObject({
        eventName: 'CreateSignalingChannel',
        errorCode: 'InvalidArgumentException',
      });
      expect(Buffer.byteLength(JSON.stringify(rec))).toBeLessThanOrEqual(MAX_AUDIT_RECORD_BYTES);
    }
    expect(size() - before).toBeLessThanOrEqual(20 * (MAX_AUDIT_RECORD_BYTES + 1));
  });
});

/** POSTs `size` bytes; resolves with the status and error type, or rejects on a reset first. */
function postBytes(
  size: number,
  chunked: boolean,
): Promise<{ status: number; errorType: string; connection: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      `${svc.endpoint}/createSignalingChannel`,
      {
        method: 'POST',
        ca: svc.caCert,
        headers: {
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': String(size) }),
        },
      },
      (res) => {
        answered = true;
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          errorType: String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] as string,
          connection: res.headers['connection'] ?? '',
        });
      },
    );
    // Once answered, the service may stop reading: a write error then is expected.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !answered) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('request bodies', () => {
  it.each([false, true])(
    'a body over 1 MiB gets a 413 answer, not a reset (chunked: %s)',
    async (chunked) => {
      const r = await postBytes(2 << 20, chunked);
      expect(r).toEqual({
        status: 413,
        errorType: 'RequestEntityTooLargeException',
        connection: 'close',
      });
    },
  );

  it('a body of exactly 1 MiB is still read through (then refused: it is unsigned)', async () => {
    const r = await postBytes(1 << 20, false);
    expect(r.status).toBe(403); // unsigned: refused by SigV4 after the whole body was read
  });
});

describe('TLS', () => {
  it('closes a connection that never sends a ClientHello', async () => {
    const sock = tcpConnect(svc.port, '127.0.0.1');
    const outcome = await new Promise<string>((resolve) => {
      // Generous: the service is started with a 500 ms handshake timeout.
      const t = setTimeout(() => resolve('still open after 30 s'), 30_000);
      sock.on('error', () => undefined);
      sock.on('close', () => {
        clearTimeout(t);
        resolve('closed');
      });
    });
    sock.destroy();
    expect(outcome).toBe('closed');
  });

  it('also closes one that stops halfway through its ClientHello', async () => {
    const sock = tcpConnect(svc.port, '127.0.0.1');
    // A TLS record header announcing 512 bytes of handshake, then silence.
    sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const outcome = await new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve('still open after 30 s'), 30_000);
      sock.on('error', () => undefined);
      sock.on('close', () => {
        clearTimeout(t);
        resolve('closed');
      });
    });
    sock.destroy();
    expect(outcome).toBe('closed');
  });
});

/** GET or OPTIONS with an Origin header; resolves the response headers. */
function withOrigin(
  method: string,
  path: string,
  origin: string,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    request(`${svc.endpoint}${path}`, { method, ca: svc.caCert, headers: { origin } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    })
      .on('error', reject)
      .end();
  });
}

describe('CORS', () => {
  it('/metrics does not echo an Origin (nor allow any), the API still does', async () => {
    const evil = 'https://evil.example';
    for (const method of ['GET', 'OPTIONS']) {
      const h = await withOrigin(method, '/metrics', evil);
      expect(h['access-control-allow-origin']).toBeUndefined();
    }
    const api = await withOrigin('OPTIONS', '/describeSignalingChannel', 'https://app.example');
    expect(api['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe('SendAlexaOfferToMaster', () => {
  it('two concurrent calls with one SenderClientId each get the answer to their own offer', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'alexa-twice' })))
      .ChannelARN as string;
    const master = await connect(svc, arn);
    try {
      const sc = signalingClient(svc, svc.endpoint);
      const offer = (n: number): Promise<string | undefined> =>
        sc
          .send(
            new SendAlexaOfferToMasterCommand({
              ChannelARN: arn,
              SenderClientId: 'alexa-same',
              MessagePayload: Buffer.from(`offer-${n}`).toString('base64'),
            }),
          )
          .then((r) => r.Answer);
      const first = offer(1);
      // The second goes out only once the master holds the first, so their order is known.
      const o1 = await master.next();
      const second = offer(2);
      const o2 = await master.next();
      const answerTo = (o: Record<string, unknown>): string =>
        Buffer.from(
          `answer-to-${Buffer.from(String(o['messagePayload']), 'base64').toString()}`,
        ).toString('base64');
      for (const o of [o1, o2]) {
        master.send({
          action: 'SDP_ANSWER',
          recipientClientId: 'alexa-same',
          messagePayload: answerTo(o),
        });
      }
      const got = await Promise.all([first, second]);
      expect(got.map((a) => Buffer.from(String(a), 'base64').toString())).toEqual([
        'answer-to-offer-1',
        'answer-to-offer-2',
      ]);
    } finally {
      await closeAll(master);
    }
  });
});
