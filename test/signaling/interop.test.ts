/**
 * Interop with software we did not write: the official `amazon-kinesis-video-streams-webrtc`
 * SignalingClient (in Node, `ws` as its WebSocket) on the other end of a channel from ours, in
 * both roles; and our presigned URL compared with the official SDK's signer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Role,
  SigV4RequestSigner,
  SignalingClient as Official,
} from 'amazon-kinesis-video-streams-webrtc';
import WebSocket from 'ws';
import type { LocalKvs } from '../../lib/local/index.js';
import {
  SignalingClient,
  type IceCandidate,
  type SessionDescription,
} from '../../lib/signaling/index.js';
import { presignSignalingUrl } from '../../lib/signaling/presign.js';
import {
  answer,
  candidate,
  clientOptions,
  next,
  offer,
  removeDir,
  startService,
} from './helpers.js';

// The SDK declares these with DOM types, which this Node project does not load.
type Sdp = SessionDescription;
type Cand = IceCandidate;

let svc: LocalKvs;
let dataDir: string;
const previousWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket;

function officialOnce<T extends unknown[]>(
  c: Official,
  event: string,
  timeoutMs = 15_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    c.once(event, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args as T);
    });
  });
}

async function official(ours: SignalingClient, role: Role, clientId?: string): Promise<Official> {
  // Our client found the channel and its endpoint; the official one is given them.
  await ours.fetch();
  const endpoint = ours.endpoints?.wss as string;
  const c = new Official({
    channelARN: ours.channelARN as string,
    channelEndpoint: endpoint,
    role,
    region: svc.region,
    ...(clientId !== undefined ? { clientId } : {}),
    credentials: svc.credentials,
  });
  const opened = officialOnce(c, 'open');
  c.open();
  await opened;
  return c;
}

async function closeOfficial(c: Official): Promise<void> {
  const closed = officialOnce(c, 'close', 5000).catch(() => undefined);
  c.close();
  await closed;
}

beforeAll(async () => {
  ({ svc, dataDir } = await startService());
  const caCert = svc.caCert;
  class TrustingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { ca: caCert });
    }
  }
  (globalThis as { WebSocket?: unknown }).WebSocket = TrustingWebSocket;
});

afterAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = previousWebSocket;
  await svc.stop({ graceful: false });
  removeDir(dataDir);
});

describe('interop with the official JS SDK', () => {
  it('our master and the official viewer exchange offer, answer and candidates', async () => {
    const master = new SignalingClient(
      clientOptions(svc, { role: 'MASTER', channelName: 'interop-a', createIfMissing: true }),
    );
    let viewer: Official | undefined;
    try {
      await master.connect();
      viewer = await official(master, Role.VIEWER, 'official-viewer');
      const gotOffer = next<[SessionDescription, string]>(master, 'sdpOffer');
      viewer.sendSdpOffer(offer);
      expect(await gotOffer).toEqual([offer, 'official-viewer']);
      const gotCand = next<[IceCandidate, string]>(master, 'iceCandidate');
      viewer.sendIceCandidate(candidate(1));
      const [c, from] = await gotCand;
      expect(c).toMatchObject(candidate(1));
      expect(from).toBe('official-viewer');

      const gotAnswer = officialOnce<[Sdp]>(viewer, 'sdpAnswer');
      await master.sendSdpAnswer(answer, 'official-viewer');
      expect((await gotAnswer)[0]).toEqual(answer);
      const gotViewerCand = officialOnce<[Cand]>(viewer, 'iceCandidate');
      await master.sendIceCandidate(candidate(2), 'official-viewer');
      expect((await gotViewerCand)[0]).toMatchObject(candidate(2));
      expect(master.getMetrics()).toMatchObject({
        numberOfMessagesSent: 2,
        numberOfMessagesReceived: 2,
        numberOfErrors: 0,
      });
    } finally {
      if (viewer) await closeOfficial(viewer);
      await master.close();
    }
  });

  it('the official master and our viewer exchange offer, answer and candidates', async () => {
    const viewer = new SignalingClient(
      clientOptions(svc, {
        role: 'VIEWER',
        clientId: 'our-viewer',
        channelName: 'interop-b',
        createIfMissing: true,
      }),
    );
    const probe = new SignalingClient(
      clientOptions(svc, { role: 'MASTER', channelName: 'interop-b', createIfMissing: true }),
    );
    let master: Official | undefined;
    try {
      master = await official(probe, Role.MASTER);
      await probe.close();
      await viewer.connect();
      const gotOffer = officialOnce<[Sdp, string]>(master, 'sdpOffer');
      await viewer.sendSdpOffer(offer);
      const [o, from] = await gotOffer;
      expect(o).toEqual(offer);
      expect(from).toBe('our-viewer');
      const gotCand = officialOnce<[Cand, string]>(master, 'iceCandidate');
      await viewer.sendIceCandidate(candidate(3));
      expect((await gotCand)[0]).toMatchObject(candidate(3));

      const gotAnswer = next<[SessionDescription]>(viewer, 'sdpAnswer');
      master.sendSdpAnswer(answer, 'our-viewer');
      expect((await gotAnswer)[0]).toEqual(answer);
      const gotViewerCand = next<[IceCandidate]>(viewer, 'iceCandidate');
      master.sendIceCandidate(candidate(4), 'our-viewer');
      expect((await gotViewerCand)[0]).toMatchObject(candidate(4));
      expect(viewer.getMetrics()).toMatchObject({
        numberOfMessagesSent: 2,
        numberOfMessagesReceived: 2,
        numberOfErrors: 0,
      });
    } finally {
      if (master) await closeOfficial(master);
      await viewer.close();
      await probe.close();
    }
  });

  it('presigns exactly as the official SDK signer does (with and without a session token)', async () => {
    const date = new Date('2026-01-02T03:04:05Z');
    for (const creds of [
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret/with+chars=' },
      { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's3cr3t', sessionToken: 'tok+en/=' },
    ]) {
      for (const clientId of [undefined, 'viewer-1']) {
        const arn = 'arn:aws:kinesisvideo:us-west-2:123456789012:channel/ch/1700000000000';
        const endpoint = 'wss://m-1234abcd.kinesisvideo.us-west-2.amazonaws.com';
        const ours = await presignSignalingUrl({
          endpoint,
          channelArn: arn,
          clientId,
          region: 'us-west-2',
          credentials: creds,
          date,
        });
        const q: Record<string, string> = { 'X-Amz-ChannelARN': arn };
        if (clientId) q['X-Amz-ClientId'] = clientId;
        const theirs = await new SigV4RequestSigner('us-west-2', creds).getSignedURL(
          endpoint,
          q,
          date,
        );
        const params = (u: string): [string, string][] =>
          [...new URL(u).searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        expect(params(ours)).toEqual(params(theirs));
        expect(new URL(ours).searchParams.get('X-Amz-Expires')).toBe('299');
      }
    }
  });
});
