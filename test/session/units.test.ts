// The pure parts of the sessions: frame files, the looping source's schedule and timestamps,
// the stats summary, and the STUN Binding codec of NAT discovery (RFC 5769 vectors).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FrameDirWriter,
  FrameFlags,
  isKeyFrame,
  LoopingMediaSource,
  readFrameDir,
  SAMPLES_DIR,
  summarizeStats,
  type Frame,
  type MediaKind,
  type Stats,
} from '../../lib/index.js';
import {
  encodeBindingRequest,
  MAGIC_COOKIE,
  parseBindingResponse,
} from '../../lib/nat/stun-binding.js';
import { parseStunUrl } from '../../lib/nat/discover.js';
import { h264Samples, isIdr } from '../helpers/media.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('frame directories', () => {
  it('reads the samples in numeric order and finds their key frames in the bitstream', () => {
    const { codec, frames } = readFrameDir(path.join(SAMPLES_DIR, 'h264'));
    expect(codec).toBe('H264');
    expect(frames).toHaveLength(250);
    const reference = h264Samples(250);
    frames.forEach((f, i) => {
      expect(f.data.equals(reference[i] as Buffer), `frame ${i}`).toBe(true);
      expect(f.key, `key flag of frame ${i}`).toBe(isIdr(reference[i] as Buffer));
    });
    // An IDR every 25 frames, from the first.
    expect(frames.flatMap((f, i) => (f.key ? [i] : []))).toEqual(
      Array.from({ length: 10 }, (_, k) => k * 25),
    );
    const audio = readFrameDir(path.join(SAMPLES_DIR, 'opus'));
    expect(audio.codec).toBe('opus');
    expect(audio.frames).toHaveLength(501);
    expect(audio.frames.every((f) => f.key)).toBe(true);
  });

  it('tells key frames of each codec apart', () => {
    expect(isKeyFrame('H264', hex('00000001 6742 00000001 68ce 00000001 6588'))).toBe(true);
    expect(isKeyFrame('H264', hex('00000001 419a'))).toBe(false);
    expect(isKeyFrame('H265', hex('00000001 2601'))).toBe(true); // IDR_W_RADL (19)
    expect(isKeyFrame('H265', hex('00000001 0201'))).toBe(false); // TRAIL_R (1)
    expect(isKeyFrame('VP8', hex('9d012a'))).toBe(false);
    expect(isKeyFrame('VP8', hex('10022a'))).toBe(true);
    expect(isKeyFrame('opus', hex('fc'))).toBe(true);
  });

  it('refuses a directory that is missing, empty or has no key frame, saying why', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-frames-'));
    try {
      expect(() => readFrameDir(path.join(dir, 'nope'))).toThrow(/cannot read the frame directory/);
      expect(() => readFrameDir(dir)).toThrow(/no frame files/);
      fs.writeFileSync(path.join(dir, 'frame-0001.h264'), hex('00000001 419a'));
      expect(() => readFrameDir(dir)).toThrow(/no H264 key frame/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('saves received frames so that they read back as a frame directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-frames-'));
    try {
      const w = new FrameDirWriter(dir, 'H264');
      const frames = h264Samples(12);
      for (const f of frames) w.write(f);
      expect(fs.readdirSync(dir).sort()[0]).toBe('frame-0001.h264');
      const back = readFrameDir(dir);
      expect(back.frames.map((f) => f.data.toString('hex'))).toEqual(
        frames.map((f) => f.toString('hex')),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LoopingMediaSource', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const key = (data: number) => ({ data: Buffer.from([0, 0, 0, 1, 0x65, data]), key: true });
  const delta = (data: number) => ({ data: Buffer.from([0, 0, 0, 1, 0x41, data]), key: false });

  function collect(source: LoopingMediaSource): { kind: MediaKind; frame: Frame }[] {
    const out: { kind: MediaKind; frame: Frame }[] = [];
    source.on('frame', (kind, frame) => out.push({ kind, frame }));
    return out;
  }

  it('plays each track on its own grid, with timestamps that keep rising across loops', () => {
    vi.useFakeTimers();
    let now = 1000;
    const source = new LoopingMediaSource({
      video: { frames: [key(0), delta(1), delta(2)], codec: 'H264', frameDurationMs: 40 },
      audio: { frames: [key(9)], codec: 'opus', frameDurationMs: 20 },
      now: () => now,
    });
    const got = collect(source);
    source.start();
    for (let i = 0; i < 400; i++) {
      now += 1;
      vi.advanceTimersByTime(1);
    }
    source.stop();
    const video = got.filter((g) => g.kind === 'video').map((g) => g.frame);
    const audio = got.filter((g) => g.kind === 'audio').map((g) => g.frame);
    // 400 ms: frames at 0, 40, ..., 400 ms.
    expect(video).toHaveLength(11);
    expect(audio).toHaveLength(21);
    expect(video.map((f) => f.presentationTs)).toEqual(
      Array.from({ length: 11 }, (_, n) => (1000 + n * 40) * 10_000),
    );
    expect(audio.map((f) => f.presentationTs)).toEqual(
      Array.from({ length: 21 }, (_, n) => (1000 + n * 20) * 10_000),
    );
    // The clip loops: 0 1 2 0 1 2 ..., the key frame flagged each time round.
    expect(video.map((f) => (f.frameData as Buffer)[5])).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1]);
    expect(video.map((f) => f.flags)).toEqual(
      [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0].map((k) => (k ? FrameFlags.KEY_FRAME : 0)),
    );
    expect(video.every((f) => f.duration === 400_000)).toBe(true);
    expect(source.counters().video).toMatchObject({
      framesEmitted: 11,
      keyFramesEmitted: 4,
      loops: 3,
    });
  });

  it('never bursts or skips timestamps when a timer fires late', () => {
    vi.useFakeTimers();
    let now = 0;
    const source = new LoopingMediaSource({
      video: { frames: [key(0), delta(1)], codec: 'H264', frameDurationMs: 40 },
      now: () => now,
    });
    const got = collect(source);
    source.start();
    now = 130; // three frames late
    vi.advanceTimersByTime(130);
    expect(got.map((g) => g.frame.presentationTs)).toEqual([0, 400_000, 800_000, 1_200_000]);
    now = 5000; // far behind (a stopped process): starts again from now, no burst
    vi.advanceTimersByTime(5000);
    source.stop();
    expect(got).toHaveLength(5);
    expect(got[4]?.frame.presentationTs).toBe(50_000_000);
  });

  it('answers a key-frame request with the next key frame at once, for every request of one turn', async () => {
    let now = 0;
    const source = new LoopingMediaSource({
      video: {
        frames: [key(0), delta(1), delta(2), delta(3), key(4), delta(5)],
        codec: 'H264',
        frameDurationMs: 10_000,
      },
      now: () => now,
    });
    const got = collect(source);
    source.start(); // frame 0 now; the next is 10 s away
    expect(got).toHaveLength(1);
    now = 5;
    source.requestKeyFrame();
    source.requestKeyFrame();
    await new Promise((r) => setImmediate(r));
    source.stop();
    expect(got).toHaveLength(2);
    expect((got[1]?.frame.frameData as Buffer)[5]).toBe(4);
    expect(got[1]?.frame.flags).toBe(FrameFlags.KEY_FRAME);
    expect(got[1]?.frame.presentationTs).toBe(50_000);
  });

  it('ignores key-frame requests when asked to play the clip as it is', async () => {
    const source = new LoopingMediaSource({
      video: { frames: [key(0), delta(1)], codec: 'H264', frameDurationMs: 10_000 },
      answerKeyFrameRequests: false,
    });
    const got = collect(source);
    source.start();
    source.requestKeyFrame();
    await new Promise((r) => setImmediate(r));
    source.stop();
    expect(got).toHaveLength(1);
  });
});

describe('summarizeStats', () => {
  const stat = (
    type: string,
    id: string,
    fields: Record<string, string | number | boolean>,
  ): Stats => ({ type, id, timestamp: 0, ...fields }) as unknown as Stats;
  const base = (): Map<string, Stats> =>
    new Map(
      [
        stat('transport', 'transport-0', { selectedCandidatePairId: 'pair-1' }),
        stat('candidate-pair', 'pair-1', {
          localCandidateId: 'l1',
          remoteCandidateId: 'r1',
          bytesSent: 5000,
          bytesReceived: 7000,
          currentRoundTripTime: 0.004,
          nominated: true,
          state: 'succeeded',
        }),
        stat('local-candidate', 'l1', {
          candidateType: 'host',
          address: '127.0.0.1',
          port: 5000,
          protocol: 'udp',
        }),
        stat('remote-candidate', 'r1', {
          candidateType: 'relay',
          address: '127.0.0.1',
          port: 6000,
          protocol: 'udp',
        }),
      ].map((s) => [s.id, s]),
    );

  it('falls back to the candidate pair when the core reports no RTP stats', () => {
    const m = summarizeStats(base());
    expect(m).toMatchObject({
      rttSource: 'ice',
      bytesSent: 5000,
      bytesReceived: 7000,
      hasRtpStats: false,
      packetsSent: undefined,
      lossFraction: undefined,
      local: { type: 'host', address: '127.0.0.1', port: 5000, protocol: 'udp' },
      remote: { type: 'relay', port: 6000 },
    });
    expect(m.rttMs).toBeCloseTo(4);
  });

  it('uses the RTP stats by their W3C names when they are there', () => {
    const stats = base();
    for (const s of [
      stat('outbound-rtp', 'o1', {
        kind: 'video',
        packetsSent: 100,
        framesSent: 25,
        framesDiscardedOnSend: 3,
      }),
      stat('outbound-rtp', 'o2', { kind: 'audio', packetsSent: 50 }),
      stat('inbound-rtp', 'i1', {
        kind: 'video',
        packetsReceived: 90,
        packetsLost: 10,
        framesReceived: 20,
        frameWidth: 640,
        frameHeight: 480,
      }),
      stat('remote-inbound-rtp', 'ri1', {
        kind: 'video',
        roundTripTime: 0.012,
        packetsLost: 2,
        fractionLost: 0.02,
      }),
    ])
      stats.set(s.id, s);
    const m = summarizeStats(stats);
    expect(m).toMatchObject({
      rttSource: 'rtcp',
      packetsSent: 150,
      packetsReceived: 90,
      packetsLost: 10,
      lossFraction: 0.1,
      remotePacketsLost: 2,
      remoteFractionLost: 0.02,
      framesSent: 25,
      framesReceived: 20,
      framesDiscardedOnSend: 3,
      frameWidth: 640,
      frameHeight: 480,
      hasRtpStats: true,
    });
    expect(m.rttMs).toBeCloseTo(12);
  });
});

describe('the STUN Binding codec of NAT discovery', () => {
  // RFC 5769 §2.2 and §2.3 (the same bytes test/cpp/stun_vectors_test.cc types in).
  const ipv4 = hex(`
    01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
    80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
    00 20 00 08  00 01 a1 47  e1 12 a6 43
    00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
    80 28 00 04  c0 7d 4c 96`);
  const ipv6 = hex(`
    01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
    80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
    00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
    00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
    80 28 00 04  c8 fb 0b 4c`);

  it('reads XOR-MAPPED-ADDRESS from the RFC 5769 responses', () => {
    const r4 = parseBindingResponse(ipv4);
    expect(r4?.success).toBe(true);
    expect(r4?.transactionId.toString('hex')).toBe('b7e7a701bc34d686fa87dfae');
    expect(r4?.mapped).toEqual({ address: '192.0.2.1', port: 32853 });
    const r6 = parseBindingResponse(ipv6);
    expect(r6?.mapped).toEqual({ address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 });
  });

  it('reads OTHER-ADDRESS and RESPONSE-ORIGIN (RFC 5780)', () => {
    const body = hex(`
      80 2c 00 08  00 01 0d 97  0a 63 04 02
      80 2b 00 08  00 01 0d 96  0a 63 01 02
      00 20 00 08  00 01 a1 47  e1 12 a6 43`);
    const msg = Buffer.concat([
      hex('0101'),
      Buffer.from([0, body.length]),
      hex('2112a442 b7e7a701bc34d686fa87dfae'),
      body,
    ]);
    const r = parseBindingResponse(msg);
    expect(r?.other).toEqual({ address: '10.99.4.2', port: 3479 });
    expect(r?.responseOrigin).toEqual({ address: '10.99.1.2', port: 3478 });
    expect(r?.mapped).toEqual({ address: '192.0.2.1', port: 32853 });
  });

  it('rejects every truncation and bad length, and what is not a Binding response', () => {
    for (let n = 0; n < ipv4.length; n++) {
      expect(parseBindingResponse(ipv4.subarray(0, n)), `truncated to ${n}`).toBeUndefined();
    }
    const badCookie = Buffer.from(ipv4);
    badCookie[4] = 0;
    expect(parseBindingResponse(badCookie)).toBeUndefined();
    const request = Buffer.from(ipv4);
    request[1] = 0x01;
    request[0] = 0x00;
    expect(parseBindingResponse(request)).toBeUndefined();
    const overlong = Buffer.from(ipv4);
    overlong.writeUInt16BE(0x00ff, 22); // SOFTWARE's length past the end
    expect(parseBindingResponse(overlong)).toBeUndefined();
  });

  it('encodes Binding requests with and without CHANGE-REQUEST', () => {
    const tid = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex');
    expect(encodeBindingRequest(tid).toString('hex')).toBe(
      `000100002112a442${tid.toString('hex')}`,
    );
    const both = encodeBindingRequest(tid, { ip: true, port: true });
    expect(both.readUInt32BE(4)).toBe(MAGIC_COOKIE);
    expect(both.subarray(20).toString('hex')).toBe('0003000400000006');
    expect(encodeBindingRequest(tid, { port: true }).subarray(20).toString('hex')).toBe(
      '0003000400000002',
    );
    expect(() => encodeBindingRequest(Buffer.alloc(11))).toThrow(RangeError);
  });

  it('parses stun: URLs, with the default port', () => {
    expect(parseStunUrl('stun:10.0.0.1')).toEqual({ host: '10.0.0.1', port: 3478 });
    expect(parseStunUrl('stun:stun.example.org:19302')).toEqual({
      host: 'stun.example.org',
      port: 19302,
    });
    expect(() => parseStunUrl('turn:x')).toThrow(/expected stun:host/);
    expect(() => parseStunUrl('stun:x:0')).toThrow(/port/);
  });
});
