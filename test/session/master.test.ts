// Master and Viewer sessions through the local service, native peer connections on loopback:
// signaling, trickle ICE, data channels, the viewer limit, replacement by client id, early
// candidates, ending sessions. None of these needs media to flow (media.test.ts does).
import { afterEach, describe, expect, it } from 'vitest';
import {
  KvsError,
  Master,
  PeerConnection,
  rtcPeerConnectionGetMetrics,
  SignalingClient,
  type IceCandidate,
  type Viewer,
  type ViewerLeftReason,
} from '../../lib/index.js';
import { fixture, nextEvent, until, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** A message from the viewer comes back from the master (which echoes). */
async function roundTrip(master: Master, viewer: Viewer, text: string): Promise<void> {
  const back = nextEvent<[string | Buffer]>(viewer, 'message', (m) => m === `echo:${text}`);
  const ch = viewer.dataChannel;
  if (!ch) throw new Error('no data channel');
  if (ch.readyState !== 'open') await nextEvent(ch, 'open');
  viewer.sendMessage(text);
  await back;
}

function echo(master: Master): void {
  master.on('message', (m, id) => master.sendMessage(`echo:${String(m)}`, id));
}

describe('Master and Viewer', () => {
  it('connect through signaling with trickled ICE and the channel ICE servers; messages go both ways', async () => {
    fx = await fixture({ turn: true });
    const master = fx.master();
    echo(master);
    const joined = nextEvent<[string]>(master, 'viewer');
    const channel = nextEvent<[unknown, string]>(master, 'datachannel');
    await master.start();
    const viewer = fx.viewer({ clientId: 'viewer-a' });
    await viewer.connect();
    expect(viewer.state).toBe('connected');
    expect((await joined)[0]).toBe('viewer-a');
    expect((await channel)[1]).toBe('viewer-a');
    await roundTrip(master, viewer, 'hello');

    const session = master.viewers.get('viewer-a');
    expect(session?.state).toBe('connected');
    const link = session?.link;
    if (!link) throw new Error('no link');
    // Trickled both ways, through signaling.
    expect(link.counters.candidatesSent).toBeGreaterThan(0);
    expect(link.counters.candidatesReceived).toBeGreaterThan(0);
    expect(viewer.counters?.candidatesSent).toBeGreaterThan(0);
    // Both peer connections were given the channel's TURN server (GetIceServerConfig).
    const turnUri = fx.svc.turn?.uris[0]?.split('?')[0];
    expect(turnUri).toMatch(/^turn:127\.0\.0\.1:\d+$/);
    for (const pc of [link.pc, viewer.peerConnection as PeerConnection]) {
      const servers = await rtcPeerConnectionGetMetrics(pc, null, 'ICE_SERVER');
      expect(servers.map((s) => (s as { url?: string }).url)).toContain(turnUri);
    }
    // The master answered the viewer's offer: H.264 and Opus, both ways.
    expect(link.pc.getTransceivers().map((t) => [t.kind, t.codec, t.currentDirection])).toEqual([
      ['video', 'H264', 'sendrecv'],
      ['audio', 'opus', 'sendrecv'],
    ]);
    const sm = master.signaling.getMetrics();
    expect(sm.numberOfErrors).toBe(0);
    expect(sm.offerToAnswerTime).toBeGreaterThan(0);
  });

  it('keeps three viewers apart: one leaving does not disturb the others', async () => {
    fx = await fixture();
    const master = fx.master();
    echo(master);
    await master.start();
    const viewers = ['v1', 'v2', 'v3'].map((clientId) => fx?.viewer({ clientId }) as Viewer);
    await Promise.all(viewers.map((v) => v.connect()));
    // Each side hears "connected" on its own; the master's may come a moment later.
    await until(() => master.connectedCount === 3, 'the master has three connected sessions');
    const [v1, v2, v3] = viewers as [Viewer, Viewer, Viewer];
    await Promise.all(viewers.map((v, i) => roundTrip(master, v, `before-${i}`)));

    const left = nextEvent<[string, ViewerLeftReason]>(master, 'viewerleft');
    await v2.close();
    // The viewer closed its side (close_notify): the master notices and ends its session.
    expect(await left).toEqual(['v2', 'left']);
    expect([...master.viewers.keys()].sort()).toEqual(['v1', 'v3']);
    expect(v1.state).toBe('connected');
    expect(v3.state).toBe('connected');
    expect(master.viewers.get('v1')?.state).toBe('connected');
    await roundTrip(master, v1, 'after-1');
    await roundTrip(master, v3, 'after-3');
    // A message to the one that left reaches no one; to the others, both.
    expect(master.sendMessage('to v2', 'v2')).toBe(0);
    expect(master.sendMessage('to all')).toBe(2);
  }, 90_000);

  it('refuses an eleventh viewer at the default limit, with an event; a free place is taken again', async () => {
    // The service's own limit is raised so that the eleventh reaches the master.
    fx = await fixture({ limits: { maxViewers: 12 } });
    const master = fx.master();
    expect(master.maxViewers).toBe(10);
    await master.start();
    const ten = Array.from({ length: 10 }, (_, i) => fx?.viewer({ clientId: `v${i}` }) as Viewer);
    await Promise.all(ten.map((v) => v.connect()));
    expect(master.viewers.size).toBe(10);

    const refused = nextEvent<[string, { reason: string; maxViewers: number }]>(
      master,
      'viewerrefused',
    );
    const eleventh = fx.viewer({ clientId: 'v10', connectTimeoutMs: 5000 });
    const attempt = eleventh.connect().then(
      () => 'connected',
      (e: unknown) => (e instanceof KvsError ? e.code : String(e)),
    );
    expect(await refused).toEqual(['v10', { reason: 'max-viewers', maxViewers: 10 }]);
    // No answer was sent: the viewer gives up on its own deadline.
    expect(await attempt).toBe('ERR_SESSION_TIMEOUT');
    expect(eleventh.timeline.answerReceived).toBeUndefined();
    expect(master.viewers.size).toBe(10);
    expect(master.viewers.has('v10')).toBe(false);
    expect(master.refusedCount).toBe(1);

    // One leaves; the next comer is admitted.
    const left = nextEvent<[string]>(master, 'viewerleft');
    await ten[0]?.close();
    expect((await left)[0]).toBe('v0');
    const twelfth = fx.viewer({ clientId: 'v11' });
    const admitted = nextEvent<[string]>(master, 'viewer', (id) => id === 'v11');
    await twelfth.connect();
    await admitted;
    expect(master.viewers.size).toBe(10);
    expect(master.viewers.get('v11')?.state).toBe('connected');
  }, 120_000);

  it('replaces the session of a viewer that comes back with the same client id, and frees the old one', async () => {
    fx = await fixture();
    const master = fx.master();
    echo(master);
    await master.start();
    const first = fx.viewer({ clientId: 'same-id' });
    // The master's 'viewer' event can come after the viewer's own connect() resolves (each end
    // sees 'connected' at its own time): wait for it, or the wait below would take it for the
    // second session's.
    const joined = nextEvent<[string]>(master, 'viewer');
    await first.connect();
    await joined;
    const old = master.viewers.get('same-id');
    const oldPc = old?.peerConnection;
    if (!old || !oldPc) throw new Error('no first session');

    // The first viewer's app is gone (a restart): its signaling socket closes, its peer
    // connection is left as it was, and the master's session for it still stands.
    await first.signaling.close();
    expect(master.viewers.get('same-id')).toBe(old);
    const ended = nextEvent<[string, ViewerLeftReason]>(master, 'viewerleft');
    const second = fx.viewer({ clientId: 'same-id' });
    const rejoined = nextEvent<[string]>(master, 'viewer');
    await second.connect();
    await rejoined;
    expect(await ended).toEqual(['same-id', 'replaced']);
    const now = master.viewers.get('same-id');
    expect(now).toBeDefined();
    expect(now).not.toBe(old);
    expect(master.viewers.size).toBe(1);
    expect(now?.state).toBe('connected');
    await roundTrip(master, second, 'the new session');

    // The old session let go of everything: its connection is closed and unheard.
    expect(old.ended).toBe('replaced');
    expect(old.state).toBe('closed');
    expect(old.link?.closed).toBe(true);
    expect(oldPc.connectionState).toBe('closed');
    for (const event of [
      'icecandidate',
      'connectionstatechange',
      'track',
      'datachannel',
      'error',
    ] as const) {
      expect(oldPc.listenerCount(event), event).toBe(0);
    }
    for (const t of oldPc.getTransceivers()) {
      expect(t.listenerCount('frame')).toBe(0);
      expect(t.writeFrame({ frameData: Buffer.from([0, 0, 0, 1, 0x09, 0x10]) })).toBe(false);
    }
    expect(old.link?.listenerCount('frame')).toBe(0);
  }, 90_000);

  it('holds ICE candidates that arrive before their viewer offer, and uses them', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    // A viewer of our own making that trickles every candidate before it offers.
    const signaling = new SignalingClient({
      channelName: fx.common.channelName,
      role: 'VIEWER',
      clientId: 'early-bird',
      region: fx.svc.region,
      credentials: fx.svc.credentials,
      endpoint: fx.svc.endpoint,
      caCertPath: fx.svc.caCertPath,
    });
    const pc = new PeerConnection({ interfaces: { only: ['127.0.0.1'] } });
    try {
      await signaling.connect();
      const gathered: IceCandidate[] = [];
      const complete = new Promise<void>((resolve) =>
        pc.on('icecandidate', (c) => (c ? gathered.push(c) : resolve())),
      );
      await pc.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'recvonly' });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await complete;
      expect(gathered.length).toBeGreaterThan(0);
      // Written to the socket, in order, before the offer; and given time to be delivered.
      await Promise.all(gathered.map((c) => signaling.sendIceCandidate(c)));
      await new Promise((r) => setTimeout(r, 500));
      expect(master.viewers.size).toBe(0);
      signaling.on('sdpAnswer', (answer) => void pc.setRemoteDescription(answer));
      signaling.on('iceCandidate', (c) => void pc.addIceCandidate(c).catch(() => undefined));
      const joined = nextEvent<[string]>(master, 'viewer');
      await signaling.sendSdpOffer(offer);
      expect((await joined)[0]).toBe('early-bird');
      const link = master.viewers.get('early-bird')?.link;
      expect(link?.counters.candidatesReceived).toBe(gathered.length);
      // The master knew the viewer's candidates before any check: a host pair, not prflx.
      const m = await link?.poll();
      expect(m?.remote?.type).toBe('host');
    } finally {
      await pc.close();
      await signaling.close();
    }
  }, 60_000);

  it('ends a session whose offer cannot be applied, with an error naming the viewer', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    const signaling = new SignalingClient({
      channelName: fx.common.channelName,
      role: 'VIEWER',
      clientId: 'broken',
      region: fx.svc.region,
      credentials: fx.svc.credentials,
      endpoint: fx.svc.endpoint,
      caCertPath: fx.svc.caCertPath,
    });
    try {
      await signaling.connect();
      const failed = nextEvent<[KvsError, string]>(master, 'error');
      const left = nextEvent<[string, ViewerLeftReason]>(master, 'viewerleft');
      await signaling.sendSdpOffer({ type: 'offer', sdp: 'v=0\r\nthis is not SDP\r\n' });
      const [err, id] = await failed;
      expect(id).toBe('broken');
      expect(err.code).toMatch(/^ERR_SDP_/);
      expect(await left).toEqual(['broken', 'failed']);
      expect(master.viewers.size).toBe(0);
    } finally {
      await signaling.close();
    }
  });

  it('close() ends every session and leaves the channel', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    const a = fx.viewer({ clientId: 'a' });
    const b = fx.viewer({ clientId: 'b' });
    await Promise.all([a.connect(), b.connect()]);
    const reasons: [string, ViewerLeftReason][] = [];
    master.on('viewerleft', (id, r) => reasons.push([id, r]));
    const pcs = [...master.viewers.values()].map((s) => s.peerConnection);
    await master.close();
    expect(reasons.sort()).toEqual([
      ['a', 'closed'],
      ['b', 'closed'],
    ]);
    expect(pcs.map((pc) => pc?.connectionState)).toEqual(['closed', 'closed']);
    expect(master.viewers.size).toBe(0);
    expect(master.signaling.state).toBe('DISCONNECTED');
    expect(master.writeFrame('video', { frameData: Buffer.from([0, 0, 0, 1, 0x65]) })).toBe(0);
    await expect(master.start()).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED' });
  }, 90_000);

  it('validates its options', () => {
    const base = {
      channelName: 'x',
      region: 'us-west-2',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    };
    expect(() => new Master({ ...base, maxViewers: 0 })).toThrow(
      /maxViewers must be an integer 1..1000/,
    );
    expect(
      () =>
        new Master({
          ...base,
          tracks: [
            { kind: 'video', codec: 'H264' },
            { kind: 'video', codec: 'VP8' },
          ],
        }),
    ).toThrow(/two video tracks/);
    expect(() => new Master({ ...base, tracks: [{ kind: 'audio', codec: 'H264' }] })).toThrow(
      /codec must be one of opus, PCMU, PCMA/,
    );
  });
});
