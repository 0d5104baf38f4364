/**
 * WebSocket signaling semantics over raw `ws` sockets, presigned by the official JS SDK's
 * signer: handshake checks, routing, replacement, held delivery, status responses, admin calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  DeleteSignalingChannelCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  b64,
  closeAll,
  connect,
  controlClient,
  openWs,
  presignedUrl,
  rejection,
  removeDir,
  signedPost,
  startTestService,
  type WsProbe,
} from './helpers.js';

let svc: LocalKvs;
let dataDir: string;
let kv: KinesisVideoClient;
let n = 0;

beforeAll(async () => {
  ({ svc, dataDir } = await startTestService({
    principals: [
      {
        accessKeyId: 'ASIATEMPORARY000001',
        secretAccessKey: 'temp-secret',
        sessionToken: 'session-token-1',
        policies: [
          { Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:Connect*', Resource: '*' }] },
        ],
      },
      {
        accessKeyId: 'ASIAEXPIRED00000001',
        secretAccessKey: 'expired-secret',
        sessionToken: 'session-token-2',
        expiration: new Date(Date.now() - 1000),
        policies: [{ Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' }] }],
      },
      {
        accessKeyId: 'AKIAVIEWERONLY00001',
        secretAccessKey: 'viewer-secret',
        policies: [
          {
            Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:ConnectAsViewer', Resource: '*' }],
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

async function channel(ttl?: number): Promise<string> {
  const r = await kv.send(
    new CreateSignalingChannelCommand({
      ChannelName: `sig-${n++}`,
      ...(ttl ? { SingleMasterConfiguration: { MessageTtlSeconds: ttl } } : {}),
    }),
  );
  return r.ChannelARN as string;
}

async function refusal(p: Promise<WsProbe>): Promise<{ status: number; errorType: string }> {
  const e = (await rejection(p)) as Error & { status?: number; errorType?: string };
  return { status: e.status ?? 0, errorType: (e.errorType ?? '').split(':')[0] as string };
}

describe('handshake', () => {
  it('refuses an AWS_ ClientId, a malformed ClientId and a malformed ARN with 400', async () => {
    const arn = await channel();
    expect(await refusal(connect(svc, arn, 'AWS_viewer'))).toEqual({
      status: 400,
      errorType: 'InvalidArgumentException',
    });
    expect(await refusal(connect(svc, arn, 'x'.repeat(257)))).toEqual({
      status: 400,
      errorType: 'InvalidArgumentException',
    });
    expect(await refusal(connect(svc, 'arn:aws:kinesisvideo:bad'))).toEqual({
      status: 400,
      errorType: 'InvalidArgumentException',
    });
  });

  it('answers 404 for an unknown or deleted channel', async () => {
    const ghost = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/ghost/1700000000000';
    expect(await refusal(connect(svc, ghost))).toEqual({
      status: 404,
      errorType: 'ResourceNotFoundException',
    });
    const arn = await channel();
    const m = await connect(svc, arn);
    await kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn }));
    await m.closed;
    expect(await refusal(connect(svc, arn, 'v1'))).toEqual({
      status: 404,
      errorType: 'ResourceNotFoundException',
    });
  });

  it('answers 403 for a wrong secret, an expired URL, a tampered query and an expired token', async () => {
    const arn = await channel();
    const wrong = { accessKeyId: svc.credentials.accessKeyId, secretAccessKey: 'wrong' };
    expect((await refusal(connect(svc, arn, 'v1', wrong))).status).toBe(403);
    // Signed ten minutes ago with X-Amz-Expires=299: expired.
    const old = await presignedUrl(svc, arn, 'v1', svc.credentials, new Date(Date.now() - 600_000));
    expect((await refusal(openWs(svc, old))).status).toBe(403);
    const good = await presignedUrl(svc, arn, 'v1');
    expect(
      (await refusal(openWs(svc, good.replace('X-Amz-ClientId=v1', 'X-Amz-ClientId=v2')))).status,
    ).toBe(403);
    const expired = {
      accessKeyId: 'ASIAEXPIRED00000001',
      secretAccessKey: 'expired-secret',
      sessionToken: 'session-token-2',
    };
    expect((await refusal(connect(svc, arn, 'v1', expired))).status).toBe(403);
  });

  it('accepts a session token signed into the URL, and refuses a wrong one', async () => {
    const arn = await channel();
    const temp = {
      accessKeyId: 'ASIATEMPORARY000001',
      secretAccessKey: 'temp-secret',
      sessionToken: 'session-token-1',
    };
    const ok = await connect(svc, arn, 'temp-viewer', temp);
    await closeAll(ok);
    expect(
      (await refusal(connect(svc, arn, 'temp-viewer', { ...temp, sessionToken: 'other' }))).status,
    ).toBe(403);
  });

  it('applies the policy to ConnectAsMaster and ConnectAsViewer separately', async () => {
    const arn = await channel();
    const viewerOnly = { accessKeyId: 'AKIAVIEWERONLY00001', secretAccessKey: 'viewer-secret' };
    const v = await connect(svc, arn, 'policy-viewer', viewerOnly);
    await closeAll(v);
    expect(await refusal(connect(svc, arn, undefined, viewerOnly))).toEqual({
      status: 403,
      errorType: 'AccessDeniedException',
    });
  });
});

describe('routing', () => {
  it('accepts the C SDK capitalised keys and routes viewer -> master -> viewer', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    const viewer = await connect(svc, arn, 'cap-viewer');
    try {
      viewer.send({
        action: 'SDP_OFFER',
        RecipientClientId: '',
        MessagePayload: b64({ type: 'offer', sdp: 'v=0' }),
        CorrelationId: 'c1',
      });
      expect(await master.next()).toEqual({
        senderClientId: 'cap-viewer',
        messageType: 'SDP_OFFER',
        messagePayload: b64({ type: 'offer', sdp: 'v=0' }),
      });
      master.send({
        action: 'SDP_ANSWER',
        RecipientClientId: 'cap-viewer',
        MessagePayload: b64({ type: 'answer' }),
      });
      expect(await viewer.next()).toEqual({
        messageType: 'SDP_ANSWER',
        messagePayload: b64({ type: 'answer' }),
      });
      // Empty optional keys, as a client that always writes every key sends them.
      viewer.send({
        action: 'ICE_CANDIDATE',
        RecipientClientId: '',
        MessagePayload: 'Yw==',
        CorrelationId: '',
      });
      expect(await master.next()).toEqual({
        senderClientId: 'cap-viewer',
        messageType: 'ICE_CANDIDATE',
        messagePayload: 'Yw==',
      });
    } finally {
      await closeAll(master, viewer);
    }
  });

  it("ignores a viewer's recipient: viewers never reach viewers", async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    const v1 = await connect(svc, arn, 'v1');
    const v2 = await connect(svc, arn, 'v2');
    try {
      v1.send({
        action: 'ICE_CANDIDATE',
        recipientClientId: 'v2',
        messagePayload: b64({ candidate: 'a' }),
      });
      expect(await master.next()).toMatchObject({
        senderClientId: 'v1',
        messageType: 'ICE_CANDIDATE',
      });
      // Barrier: the first thing v2 sees is the master's later message, not v1's candidate.
      master.send({
        action: 'ICE_CANDIDATE',
        recipientClientId: 'v2',
        messagePayload: b64({ candidate: 'from-master' }),
      });
      expect(await v2.next()).toEqual({
        messageType: 'ICE_CANDIDATE',
        messagePayload: b64({ candidate: 'from-master' }),
      });
    } finally {
      await closeAll(master, v1, v2);
    }
  });

  it('answers STATUS_RESPONSE only when a correlationId is given', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    try {
      master.send({ action: 'SDP_OFFER', messagePayload: 'eA==' });
      master.send('not json');
      master.send({ action: 'BOGUS', messagePayload: 'eA==', correlationId: 'bad-action' });
      expect(await master.next()).toEqual({
        messageType: 'STATUS_RESPONSE',
        statusResponse: {
          correlationId: 'bad-action',
          errorType: 'InvalidArgumentException',
          statusCode: '400',
          description: expect.any(String) as string,
        },
      });
      master.send({
        action: 'ICE_CANDIDATE',
        recipientClientId: 'v',
        messagePayload: 'x'.repeat(10_001),
        correlationId: 'too-big',
      });
      expect(await master.next()).toMatchObject({
        messageType: 'STATUS_RESPONSE',
        statusResponse: {
          correlationId: 'too-big',
          errorType: 'InvalidArgumentException',
          statusCode: '400',
        },
      });
      master.send({
        action: 'ICE_CANDIDATE',
        recipientClientId: 'v',
        messagePayload: '',
        correlationId: 'empty',
      });
      expect(await master.next()).toMatchObject({ statusResponse: { correlationId: 'empty' } });
      expect(master.closeCode).toBeUndefined();
    } finally {
      await closeAll(master);
    }
  });

  it('passes a payload of exactly 10,000 characters', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    const viewer = await connect(svc, arn, 'big');
    try {
      const payload = 'A'.repeat(10_000);
      viewer.send({ action: 'SDP_OFFER', messagePayload: payload, correlationId: 'max' });
      expect(await master.next()).toMatchObject({
        messageType: 'SDP_OFFER',
        messagePayload: payload,
      });
    } finally {
      await closeAll(master, viewer);
    }
  });
});

describe('connections', () => {
  it('a newer master replaces the old one', async () => {
    const arn = await channel();
    const m1 = await connect(svc, arn);
    const m2 = await connect(svc, arn);
    await m1.closed;
    expect(m1.closeReason).toMatch(/Replaced/);
    const v = await connect(svc, arn, 'v');
    try {
      v.send({ action: 'SDP_OFFER', messagePayload: 'b2Zm' });
      expect(await m2.next()).toMatchObject({ senderClientId: 'v', messagePayload: 'b2Zm' });
    } finally {
      await closeAll(m2, v);
    }
  });

  it('a newer viewer with the same ClientId replaces the old one', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    const a = await connect(svc, arn, 'same');
    const b = await connect(svc, arn, 'same');
    await a.closed;
    try {
      master.send({ action: 'SDP_ANSWER', recipientClientId: 'same', messagePayload: 'YW5z' });
      expect(await b.next()).toEqual({ messageType: 'SDP_ANSWER', messagePayload: 'YW5z' });
      expect(a.messages).toEqual([]);
    } finally {
      await closeAll(master, b);
    }
  });

  it('holds messages for an offline recipient; a newer undelivered offer overwrites the older', async () => {
    const arn = await channel();
    const viewer = await connect(svc, arn, 'early');
    viewer.send({ action: 'SDP_OFFER', messagePayload: 'b2ZmZXIx' });
    viewer.send({ action: 'ICE_CANDIDATE', messagePayload: 'Y2FuZDE=' });
    viewer.send({ action: 'SDP_OFFER', messagePayload: 'b2ZmZXIy' });
    viewer.send({ action: 'ICE_CANDIDATE', messagePayload: 'Y2FuZDI=' });
    // Barrier: the viewer's own status response proves the four messages were processed.
    viewer.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'barrier' });
    await viewer.next();
    const master = await connect(svc, arn);
    try {
      const got = [await master.next(), await master.next(), await master.next()];
      expect(got.map((m) => m['messagePayload'])).toEqual(['Y2FuZDE=', 'b2ZmZXIy', 'Y2FuZDI=']);
      // And the master's answer waits for a viewer that is not there yet.
      master.send({ action: 'SDP_ANSWER', recipientClientId: 'late', messagePayload: 'YW5zd2Vy' });
      master.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'barrier2' });
      await master.next();
      const late = await connect(svc, arn, 'late');
      expect(await late.next()).toEqual({ messageType: 'SDP_ANSWER', messagePayload: 'YW5zd2Vy' });
      await closeAll(late);
    } finally {
      await closeAll(master, viewer);
    }
  });

  it('drops held messages once the channel TTL has passed', async () => {
    const arn = await channel(5);
    const viewer = await connect(svc, arn, 'ttl');
    viewer.send({ action: 'SDP_OFFER', messagePayload: 'c3RhbGU=' });
    viewer.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'barrier' });
    await viewer.next();
    // The quantity under test is time itself: wait past the 5 s TTL.
    await new Promise((r) => setTimeout(r, 5_500));
    viewer.send({ action: 'SDP_OFFER', messagePayload: 'ZnJlc2g=' });
    viewer.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'barrier2' });
    await viewer.next();
    const master = await connect(svc, arn);
    try {
      expect(await master.next()).toMatchObject({ messagePayload: 'ZnJlc2g=' });
      master.send({ action: 'NOPE', messagePayload: 'eA==', correlationId: 'barrier3' });
      expect(await master.next()).toMatchObject({ messageType: 'STATUS_RESPONSE' });
      expect(master.messages.filter((m) => m['messagePayload'] === 'c3RhbGU=')).toEqual([]);
    } finally {
      await closeAll(master, viewer);
    }
  });

  it('sends RECONNECT_ICE_SERVER and GO_AWAY on demand', async () => {
    const arn = await channel();
    const master = await connect(svc, arn);
    const viewer = await connect(svc, arn, 'admin-v');
    try {
      expect(svc.reconnectIceServer(arn)).toBe(2);
      expect(await master.next()).toEqual({ messageType: 'RECONNECT_ICE_SERVER' });
      expect(await viewer.next()).toEqual({ messageType: 'RECONNECT_ICE_SERVER' });
      expect(svc.goAway(arn)).toBe(2);
      expect(await master.next()).toEqual({ messageType: 'GO_AWAY' });
      expect(await viewer.next()).toEqual({ messageType: 'GO_AWAY' });
      // Within the (default 60 s) grace the connection still works.
      viewer.send({ action: 'ICE_CANDIDATE', messagePayload: 'bGFzdA==' });
      expect(await master.next()).toMatchObject({ messagePayload: 'bGFzdA==' });
    } finally {
      await closeAll(master, viewer);
    }
  });
  it('offers the same admin calls over signed HTTP, to the default key pair only', async () => {
    const arn = await channel();
    const other = await channel();
    const viewer = await connect(svc, arn, 'http-admin');
    const bystander = await connect(svc, other, 'bystander');
    try {
      expect(
        await signedPost(svc, '/local-admin/reconnect-ice-server', { ChannelARN: arn }),
      ).toEqual({
        status: 200,
        errorType: '',
        body: { Connections: 1 },
      });
      expect(await viewer.next()).toEqual({ messageType: 'RECONNECT_ICE_SERVER' });
      expect(await signedPost(svc, '/local-admin/go-away', { ChannelARN: arn })).toMatchObject({
        status: 200,
        body: { Connections: 1 },
      });
      expect(await viewer.next()).toEqual({ messageType: 'GO_AWAY' });
      // The other channel's client heard neither: its first message is this direct one.
      svc.reconnectIceServer(other);
      expect(await bystander.next()).toEqual({ messageType: 'RECONNECT_ICE_SERVER' });
      const temp = {
        accessKeyId: 'ASIATEMPORARY000001',
        secretAccessKey: 'temp-secret',
        sessionToken: 'session-token-1',
      };
      expect(await signedPost(svc, '/local-admin/go-away', {}, temp)).toMatchObject({
        status: 403,
        errorType: 'AccessDeniedException',
      });
    } finally {
      await closeAll(viewer, bystander);
    }
  });
});
