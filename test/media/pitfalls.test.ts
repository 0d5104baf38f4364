// The media pitfalls other stacks fell into (the project's media-facts.md), end to end between
// two kvs-webrtc peers on loopback: what the app writes with writeFrame against what the other
// side's `frame` event hands out. (Chromium's view of the same pitfalls is in
// test/interop/chromium-media.test.ts; repair under loss in loss.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { FrameFlags, type ReceivedFrame } from '../../lib/index.js';
import { mediaPair, sleep, until, type MediaPair } from '../helpers/media-pair.js';
import {
  carriedNals,
  h264Samples,
  h264Type,
  h265Samples,
  h265Type,
  isKeyPicture,
  nalUnits,
  opusSamples,
  stripParameterSets,
  toLengthPrefixed,
} from '../helpers/media-files.js';

const FRAME = 400_000; // 40 ms in 100 ns units
let pair: MediaPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** Writes `frames` at 25 fps of media time (as fast as the loop allows, 2 ms apart). */
async function writeAll(
  p: MediaPair,
  frames: Buffer[],
  pts: (i: number) => number = (i) => i * FRAME,
): Promise<void> {
  for (let i = 0; i < frames.length; i++) {
    expect(p.send.writeFrame({ frameData: frames[i] as Buffer, presentationTs: pts(i) })).toBe(
      true,
    );
    await sleep(2);
  }
}

const typesOf = (f: ReceivedFrame) => nalUnits(f.frameData).map(h264Type);

describe('media pitfalls, native to native', () => {
  it('AVCC (4-byte length-prefixed) access units are taken and arrive as Annex-B, NAL for NAL', async () => {
    pair = await mediaPair('video', 'H264');
    const frames = h264Samples(60);
    await writeAll(pair, frames.map(toLengthPrefixed));
    await until(() => pair?.received.length === frames.length);
    pair.received.forEach((f, i) => {
      expect(carriedNals(f.frameData), `frame ${i}`).toEqual(carriedNals(frames[i] as Buffer));
      expect(f.frameData.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 1]));
    });
  });

  it('IDRs without SPS/PPS get the last ones sent in front of them', async () => {
    pair = await mediaPair('video', 'H264');
    const frames = h264Samples(75); // IDRs at 0, 25, 50
    // The first IDR complete; the later ones stripped, as apps that forget to repeat them do.
    const written = frames.map((f, i) => (i > 0 && isKeyPicture(f) ? stripParameterSets(f) : f));
    expect(nalUnits(written[25] as Buffer).map(h264Type)).not.toContain(7);
    await writeAll(pair, written);
    await until(() => pair?.received.length === frames.length);
    for (const i of [25, 50]) {
      const got = pair.received[i] as ReceivedFrame;
      const types = typesOf(got);
      // SPS and PPS, before the first slice, with the original bytes.
      expect(types.indexOf(7), `SPS in IDR ${i}`).toBeGreaterThanOrEqual(0);
      expect(types.indexOf(8), `PPS in IDR ${i}`).toBeGreaterThan(types.indexOf(7));
      expect(types.indexOf(5)).toBeGreaterThan(types.indexOf(8));
      expect([...carriedNals(got.frameData)].sort()).toEqual(
        [...carriedNals(frames[i] as Buffer)].sort(),
      );
    }
    for (let i = 0; i < frames.length; i++) {
      if (i % 25 !== 0) {
        expect(carriedNals((pair.received[i] as ReceivedFrame).frameData)).toEqual(
          carriedNals(frames[i] as Buffer),
        );
      }
    }
  });

  it('SPS/PPS written once as a frame of their own (an avcC), then IDRs without them: the receiver can start', async () => {
    pair = await mediaPair('video', 'H264');
    const frames = h264Samples(50);
    const parameterSets = Buffer.concat(
      nalUnits(frames[0] as Buffer)
        .filter((n) => h264Type(n) === 7 || h264Type(n) === 8)
        .flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]),
    );
    const written = [
      parameterSets,
      ...frames.map((f) => toLengthPrefixed(isKeyPicture(f) ? stripParameterSets(f) : f)),
    ];
    await writeAll(pair, written, (i) => Math.max(0, i - 1) * FRAME);
    await until(() => pair?.received.length === frames.length);
    const first = pair.received[0] as ReceivedFrame;
    expect(first.flags & FrameFlags.KEY_FRAME).toBe(FrameFlags.KEY_FRAME);
    expect(typesOf(first).slice(-3)).toEqual([7, 8, 5]);
    expect(typesOf(pair.received[25] as ReceivedFrame)).toEqual(expect.arrayContaining([7, 8, 5]));
  });

  it('H.265: access units arrive whole, VPS/SPS/PPS put in front of IRAPs that lack them', async () => {
    pair = await mediaPair('video', 'H265');
    expect(pair.send.codec).toBe('H265');
    const frames = h265Samples(); // 50, IDRs at 0 and 25
    const written = frames.map((f, i) => (i === 25 ? stripParameterSets(f, 'H265') : f));
    await writeAll(pair, written);
    await until(() => pair?.received.length === frames.length);
    pair.received.forEach((f, i) => {
      const want = carriedNals(frames[i] as Buffer, 'H265');
      const got = carriedNals(f.frameData, 'H265');
      if (i === 25) expect([...got].sort(), 'IRAP 25').toEqual([...want].sort());
      else expect(got, `frame ${i}`).toEqual(want);
      expect((f.flags & FrameFlags.KEY_FRAME) !== 0).toBe(
        isKeyPicture(frames[i] as Buffer, 'H265'),
      );
    });
    const types = nalUnits((pair.received[25] as ReceivedFrame).frameData).map(h265Type);
    expect(types.indexOf(32)).toBeLessThan(types.indexOf(33)); // VPS, SPS, PPS, then the slice
    expect(types.indexOf(33)).toBeLessThan(types.indexOf(34));
    expect(types.indexOf(34)).toBeLessThan(types.findIndex((t) => t >= 16 && t <= 23));
  });

  it('presentationTs near the 32-bit RTP wrap, and pauses that carry the RTP timestamp across it', async () => {
    pair = await mediaPair('video', 'H264');
    // The RTP timestamp is (presentationTs - the first one) at 90 kHz plus a random offset, so
    // no start value alone can put it at the wrap. The stream starts where presentationTs at
    // 90 kHz is 1 s below 2^32 (large values must not overflow), and pauses of 2^30 ticks
    // (3.3 h) between its five GOPs make it cross the wrap at least once whatever the offset
    // is. Multiples of 9 ticks are exact in 100 ns units.
    const ticksToPts = (ticks: number) => (ticks / 9) * 1000;
    const start = ticksToPts(2 ** 32 - 4 - 90_000);
    const pause = ticksToPts(2 ** 30 - 1);
    const frames = [...h264Samples(250).slice(0, 100), ...h264Samples(25)];
    const pts = (i: number) => start + i * FRAME + Math.floor(i / 25) * pause;
    await writeAll(pair, frames, pts);
    await until(() => pair?.received.length === frames.length);
    let wraps = 0;
    pair.received.forEach((f, i) => {
      expect(carriedNals(f.frameData), `frame ${i}`).toEqual(carriedNals(frames[i] as Buffer));
      // Unwrapped: the time since the first frame, exact across the wrap.
      expect(f.presentationTs, `presentationTs of frame ${i}`).toBe(pts(i) - start);
      const previous = pair?.received[i - 1];
      if (previous && f.rtpTimestamp < previous.rtpTimestamp) wraps++;
    });
    expect(wraps, 'RTP timestamp wraps seen').toBeGreaterThanOrEqual(1);
  });

  it('Opus with presentationTs near the 32-bit wrap at 48 kHz: every packet arrives, times exact', async () => {
    pair = await mediaPair('audio', 'opus');
    const packets = opusSamples(100);
    // 48 kHz: 3 ticks are 625 units of 100 ns; the start is 0.5 s below 2^32 ticks.
    const start = ((2 ** 32 - 1 - 24_000) / 3) * 625;
    await writeAll(pair, packets, (i) => start + i * 200_000);
    await until(() => pair?.received.length === packets.length);
    pair.received.forEach((f, i) => {
      expect(f.frameData.equals(packets[i] as Buffer), `packet ${i}`).toBe(true);
      expect(f.presentationTs).toBe(i * 200_000);
    });
  });
});
