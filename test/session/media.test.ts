// Media through Master and Viewer sessions: fan-out to several viewers, each on its own
// connection; a viewer joining mid-stream; frames from viewers to the master. These need the
// native receive path (ReceiveStream, jitter buffer) to deliver `frame` events.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameFlags, type MediaKind, type Viewer, type ViewerLeftReason } from '../../lib/index.js';
import { carriedNals, isIdr } from '../helpers/media.js';
import { fixture, nextEvent, recordVideo, until, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('media through sessions', () => {
  it('a viewer gets whole frames from the start of a key frame, asked for at once', async () => {
    fx = await fixture();
    const master = fx.master();
    const requests: { kind: MediaKind; viewerId: string; reason: string }[] = [];
    master.on('keyframerequest', (r) => requests.push(r));
    await master.start();
    fx.stream(master);
    const viewer = fx.viewer({ clientId: 'first' });
    const video = recordVideo(viewer);
    let audio = 0;
    viewer.on('frame', (kind) => {
      if (kind === 'audio') audio++;
    });
    await viewer.connect();
    await until(() => video.length >= 50 && audio >= 50, 'frames arrive');
    expect(isIdr(video[0]?.frameData as Buffer)).toBe(true);
    expect((video[0]?.flags ?? 0) & FrameFlags.KEY_FRAME).toBe(FrameFlags.KEY_FRAME);
    expect(requests.some((r) => r.viewerId === 'first' && r.kind === 'video')).toBe(true);
    const ttff = viewer.timeToFirstFrame('video');
    expect(ttff).toBeGreaterThan(0);
    // Presentation times rise by the clip's 40 ms per frame.
    for (let i = 1; i < video.length; i++) {
      expect((video[i]?.presentationTs ?? 0) - (video[i - 1]?.presentationTs ?? 0)).toBeGreaterThan(
        0,
      );
    }
  });

  it('fans one stream out to three viewers on their own connections; one leaving does not disturb the others', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    fx.stream(master);
    const viewers = ['a', 'b', 'c'].map((clientId) => fx?.viewer({ clientId }) as Viewer);
    const received = viewers.map(recordVideo);
    await Promise.all(viewers.map((v) => v.connect()));
    await until(() => received.every((r) => r.length >= 50), 'every viewer has 50 frames');

    // The same frames, NAL for NAL, on every connection: each viewer's frames line up with
    // the first viewer's from where it started (receivers count time from their own first
    // frame, so frames are matched by content, and then step by step).
    const nals = received.map((r) => r.map((f) => carriedNals(f.frameData).join()));
    // The reference is the viewer that started first.
    const startedAt = viewers.map((v) => v.timeline.firstFrame.video ?? Infinity);
    const first = nals[startedAt.indexOf(Math.min(...startedAt))] ?? [];
    for (const [v, list] of nals.entries()) {
      const at = first.indexOf(list[0] ?? '');
      expect(at, `viewer ${v}'s first frame is one the earliest viewer got`).toBeGreaterThanOrEqual(
        0,
      );
      const n = Math.min(20, list.length, first.length - at);
      expect(n).toBeGreaterThanOrEqual(10);
      expect(list.slice(0, n)).toEqual(first.slice(at, at + n));
    }
    // Each connection has its own RTP stream: its own SSRC (and with it sequence numbers).
    const ssrcs = new Set<number>();
    for (const s of master.viewers.values()) {
      for (const st of (await s.peerConnection?.getStats())?.values() ?? []) {
        if (st.type === 'outbound-rtp' && st['kind'] === 'video') ssrcs.add(st.ssrc);
      }
    }
    expect(ssrcs.size).toBe(3);

    const left = nextEvent<[string, ViewerLeftReason]>(master, 'viewerleft');
    const [a, b, c] = viewers as [Viewer, Viewer, Viewer];
    await b.close();
    expect(await left).toEqual(['b', 'left']);
    const [na, nc] = [received[0]?.length ?? 0, received[2]?.length ?? 0];
    await until(
      () => (received[0]?.length ?? 0) >= na + 50 && (received[2]?.length ?? 0) >= nc + 50,
      'the other two keep receiving',
    );
    expect(a.state).toBe('connected');
    expect(c.state).toBe('connected');
  }, 90_000);

  it('a viewer joining mid-stream without a key-frame answer starts at the clip next key frame', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    const source = fx.stream(master, false);
    // Join after the stream is under way, between two of its key frames (every 25 frames).
    await until(
      () => (source.counters().video?.framesEmitted ?? 0) >= 30,
      'the stream is under way',
    );
    const viewer = fx.viewer({ clientId: 'late' });
    const video = recordVideo(viewer);
    await viewer.connect();
    await until(() => video.length >= 30, 'frames arrive');
    expect(isIdr(video[0]?.frameData as Buffer)).toBe(true);
    expect(viewer.timeToFirstFrame('video')).toBeGreaterThan(0);
  });

  it('carries frames from a viewer to the master, with the viewer id', async () => {
    fx = await fixture();
    const master = fx.master();
    await master.start();
    const got: Record<MediaKind, number> = { video: 0, audio: 0 };
    master.on('frame', (kind, _f, id) => {
      if (id === 'sender') got[kind]++;
    });
    const viewer = fx.viewer({ clientId: 'sender' });
    await viewer.connect();
    const { LoopingMediaSource, sampleTracks } = await import('../../lib/index.js');
    const source = new LoopingMediaSource(sampleTracks());
    source.on('frame', (kind, f) => viewer.writeFrame(kind, f));
    viewer.on('keyframerequest', () => source.requestKeyFrame());
    source.start();
    try {
      await until(() => got.video >= 25 && got.audio >= 25, 'the master receives from the viewer');
    } finally {
      source.stop();
    }
  });
});
