/**
 * The official `amazon-kinesis-video-streams-webrtc` SignalingClient, in Node with `ws` as the
 * global WebSocket, against the local service over real TLS sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSignalingChannelCommand,
  GetSignalingChannelEndpointCommand,
} from '@aws-sdk/client-kinesis-video';
import { Role, SignalingClient } from 'amazon-kinesis-video-streams-webrtc';
import WebSocket from 'ws';
import type { LocalKvs } from '../../lib/local/index.js';
import type { IceCandidate, SessionDescription } from '../../lib/index.js';
import { controlClient, removeDir, startTestService } from './helpers.js';

// The SDK declares these with DOM types, which this Node project does not load.
type Sdp = SessionDescription;
type Cand = IceCandidate;

let svc: LocalKvs;
let dataDir: string;
let channelARN: string;
let wssEndpoint: string;
const previousWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket;

function once<T extends unknown[]>(
  client: SignalingClient,
  event: string,
  timeoutMs = 15_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    client.once(event, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args as T);
    });
  });
}

function makeClient(role: Role, clientId?: string, secret?: string): SignalingClient {
  return new SignalingClient({
    channelARN,
    channelEndpoint: wssEndpoint,
    role,
    region: svc.region,
    ...(clientId !== undefined ? { clientId } : {}),
    credentials: {
      accessKeyId: svc.credentials.accessKeyId,
      secretAccessKey: secret ?? svc.credentials.secretAccessKey,
    },
  });
}

async function openClient(c: SignalingClient): Promise<void> {
  const opened = once(c, 'open');
  c.open();
  await opened;
}

async function closeClient(c: SignalingClient): Promise<void> {
  const closed = once(c, 'close', 5000).catch(() => undefined);
  c.close();
  await closed;
}

beforeAll(async () => {
  ({ svc, dataDir } = await startTestService());
  const caCert = svc.caCert;
  // The SDK calls `new WebSocket(url)`; this subclass adds trust in the local CA.
  class TrustingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { ca: caCert });
    }
  }
  (globalThis as { WebSocket?: unknown }).WebSocket = TrustingWebSocket;
  const kv = controlClient(svc);
  channelARN = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'official-sdk' })))
    .ChannelARN as string;
  const ep = await kv.send(
    new GetSignalingChannelEndpointCommand({
      ChannelARN: channelARN,
      SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'MASTER' },
    }),
  );
  wssEndpoint = ep.ResourceEndpointList?.find((e) => e.Protocol === 'WSS')
    ?.ResourceEndpoint as string;
});

afterAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = previousWebSocket;
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

describe('official JS SignalingClient', () => {
  it('connects as master and viewer and exchanges offer, answer and ICE candidates', async () => {
    const master = makeClient(Role.MASTER);
    const viewer = makeClient(Role.VIEWER, 'viewer-1');
    try {
      await openClient(master);
      await openClient(viewer);

      const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
      const gotOffer = once<[Sdp, string]>(master, 'sdpOffer');
      viewer.sendSdpOffer(offer);
      const [offerAtMaster, from] = await gotOffer;
      expect(offerAtMaster).toEqual(offer);
      expect(from).toBe('viewer-1');

      const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n' };
      const gotAnswer = once<[Sdp]>(viewer, 'sdpAnswer');
      master.sendSdpAnswer(answer, 'viewer-1');
      expect((await gotAnswer)[0]).toEqual(answer);

      const cand = {
        candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      };
      const gotCandAtMaster = once<[Cand, string]>(master, 'iceCandidate');
      viewer.sendIceCandidate(cand);
      const [c1, c1From] = await gotCandAtMaster;
      expect(c1).toMatchObject(cand);
      expect(c1From).toBe('viewer-1');

      const gotCandAtViewer = once<[Cand]>(viewer, 'iceCandidate');
      master.sendIceCandidate(cand, 'viewer-1');
      expect((await gotCandAtViewer)[0]).toMatchObject(cand);
    } finally {
      await closeClient(viewer);
      await closeClient(master);
    }
  });

  it('gets a STATUS_RESPONSE with the correlationId for a bad message', async () => {
    const master = makeClient(Role.MASTER);
    try {
      await openClient(master);
      const status = once<[Record<string, string>]>(master, 'statusResponse');
      // A master must name a viewer; the SDK (2.8+) leaves that check to the service.
      master.sendSdpOffer({ type: 'offer', sdp: 'v=0\r\n' }, undefined, 'corr-42');
      const [resp] = await status;
      expect(resp).toMatchObject({
        correlationId: 'corr-42',
        errorType: 'InvalidArgumentException',
        statusCode: '400',
      });
      expect(typeof resp['description']).toBe('string');
    } finally {
      await closeClient(master);
    }
  });

  it('is refused with a wrong secret', async () => {
    const viewer = makeClient(Role.VIEWER, 'viewer-bad', 'not-the-secret');
    let opened = false;
    viewer.on('open', () => (opened = true));
    const failed = once<[Error]>(viewer, 'error');
    viewer.open();
    const [err] = await failed;
    expect(String((err as { message?: string }).message ?? err)).toMatch(/403/);
    expect(opened).toBe(false);
    viewer.close();
  });
});
