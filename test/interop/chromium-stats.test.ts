// Our getStats() against Chromium's own at the other end of a call with video and audio both
// ways (chromium-stats.mjs says how it runs). Each direction is counted twice, once by its
// sender and once by its receiver, by two independent implementations: where both follow
// W3C webrtc-stats the figures must be equal, and where they differ the difference must be
// exactly what the definitions say.
//
// Tolerance. The final reports are taken at a quiet moment: both sides have stopped sending
// and every RTP counter of both has stood still for 1.5 s, so nothing is in flight and the
// in-flight tolerance is zero: the comparisons are exact. What differs by definition:
// - RTX probes. Chromium probes bandwidth over RTX with padding-only packets and with resent
//   old packets; it counts both in its outbound packetsSent but neither as retransmitted. We
//   count the padding-only ones as paddingPacketsReceived, outside packetsReceived (they are
//   no packets of the stream), and the resent ones as retransmitted (we cannot tell a probe
//   from a repair) and in packetsReceived, as W3C says.
// - The RTX OSN. Chromium counts the 2-byte original sequence number of an RTX packet as
//   payload; we count it as header (our bytes are the stream's payload, W3C's "payload bytes
//   for this SSRC"), so Chromium's bytesSent is ours received plus 2 per RTX packet.
// - A padding probe that comes before the first media packet of its stream has no stream to
//   count it yet: the transport counts it in rtpPacketsUnroutable.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsRecord } from '../helpers/chromium-media.js';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

const script = path.join(ROOT, 'test', 'interop', 'chromium-stats.mjs');

interface Sample {
  chromium: StatsRecord[];
  ours: StatsRecord[];
}
interface Outcome {
  error?: string;
  quiet: boolean;
  reported: boolean;
  samples: Sample[];
  beforeOutage?: { c: StatsRecord[]; k: StatsRecord[] };
  afterOutage?: { c: StatsRecord[]; k: StatsRecord[] };
  chromium: StatsRecord[];
  ours: StatsRecord[];
  keyFrameRequests: string[];
}

function run(options: {
  lossProbability?: number;
  outageSeconds?: number;
  seconds?: number;
}): Outcome {
  const r = runInNetns(
    [script, JSON.stringify({ address: NETNS_ADDRESS, seconds: 6, ...options })],
    180_000,
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  const out = JSON.parse(line) as Outcome;
  expect(out.error, r.stderr).toBeUndefined();
  expect(out.quiet, 'every RTP counter stood still after both stopped').toBe(true);
  expect(out.reported, 'each side had a receiver report after the last packet').toBe(true);
  return out;
}

type Kind = 'audio' | 'video';
/** The one stats object of this type and kind (throws when there is none). */
function one(report: StatsRecord[], type: string, kind: Kind): StatsRecord {
  const found = report.filter((s) => s['type'] === type && s['kind'] === kind);
  expect(found, `${type} ${kind}`).toHaveLength(1);
  return found[0] as StatsRecord;
}
const n = (s: StatsRecord, key: string): number => {
  const v = s[key];
  expect(typeof v, key).toBe('number');
  return v as number;
};
const KINDS: Kind[] = ['video', 'audio'];

describe.skipIf(skipWithoutNetns('stats against Chromium'))(
  'getStats() against Chromium at the other end',
  () => {
    it('packets and bytes agree with Chromium both ways, exactly once nothing is in flight; RTT is plausible', () => {
      const out = run({});
      // No loss is staged; a datagram the busy host itself dropped would show in packetsLost
      // (and make the exact sums below wrong), so that is checked first.
      // kvs-webrtc sends, Chromium receives: the same packets and payload and header bytes.
      for (const kind of KINDS) {
        const sent = one(out.ours, 'outbound-rtp', kind);
        const got = one(out.chromium, 'inbound-rtp', kind);
        expect(got['ssrc'], `${kind}: Chromium's inbound-rtp is our SSRC`).toBe(sent['ssrc']);
        expect(n(sent, 'packetsSent'), `${kind} packets`).toBeGreaterThan(100);
        expect(n(got, 'packetsLost'), `${kind}: nothing lost on the way`).toBe(0);
        expect(n(got, 'packetsReceived'), `${kind} packets`).toBe(n(sent, 'packetsSent'));
        expect(n(got, 'bytesReceived'), `${kind} payload bytes`).toBe(n(sent, 'bytesSent'));
        expect(n(got, 'headerBytesReceived'), `${kind} header bytes`).toBe(
          n(sent, 'headerBytesSent'),
        );
        // Our sender reports, as Chromium took them: RFC 3550's counts of this SSRC, so
        // without what went over RTX.
        const remote = one(out.chromium, 'remote-outbound-rtp', kind);
        expect(n(remote, 'packetsSent'), `${kind} SR packets`).toBe(
          n(sent, 'packetsSent') - n(sent, 'retransmittedPacketsSent'),
        );
        expect(n(remote, 'bytesSent'), `${kind} SR bytes`).toBe(
          n(sent, 'bytesSent') - n(sent, 'retransmittedBytesSent'),
        );
      }
      // Chromium sends, kvs-webrtc receives.
      const transport = out.ours.find((s) => s['type'] === 'transport') as StatsRecord;
      let unaccounted = 0;
      for (const kind of KINDS) {
        const sent = one(out.chromium, 'outbound-rtp', kind);
        const got = one(out.ours, 'inbound-rtp', kind);
        expect(got['ssrc'], `${kind}: our inbound-rtp is Chromium's SSRC`).toBe(sent['ssrc']);
        expect(n(got, 'packetsLost'), `${kind}: nothing lost on the way`).toBe(0);
        expect(n(got, 'packetsReceived'), `${kind} packets`).toBeGreaterThan(100);
        const counted = n(got, 'packetsReceived') + n(got, 'paddingPacketsReceived');
        expect(counted, `${kind}: no more than Chromium sent`).toBeLessThanOrEqual(
          n(sent, 'packetsSent'),
        );
        unaccounted += n(sent, 'packetsSent') - counted;
        const rtx = n(got, 'retransmittedPacketsReceived');
        expect(n(got, 'bytesReceived') + 2 * rtx, `${kind} payload bytes`).toBe(
          n(sent, 'bytesSent'),
        );
        // The peer's sender reports say the same (libwebrtc's count RTX in, as its stats do).
        const remote = one(out.ours, 'remote-outbound-rtp', kind);
        expect(n(remote, 'packetsSent'), `${kind} SR packets`).toBe(n(sent, 'packetsSent'));
        expect(n(remote, 'bytesSent'), `${kind} SR bytes`).toBe(n(sent, 'bytesSent'));
      }
      // Every packet Chromium sent is counted by a stream, or by the transport.
      expect(unaccounted).toBe(n(transport, 'rtpPacketsUnroutable'));
      // Round trips from Chromium's receiver reports: positive, and on one host, under a
      // second however busy the machine (Chromium's own figure is whole milliseconds).
      for (const kind of KINDS) {
        const ri = one(out.ours, 'remote-inbound-rtp', kind);
        expect(ri['localId']).toBe(one(out.ours, 'outbound-rtp', kind)['id']);
        expect(n(ri, 'roundTripTimeMeasurements'), kind).toBeGreaterThan(0);
        expect(n(ri, 'roundTripTime'), kind).toBeGreaterThan(0);
        expect(n(ri, 'roundTripTime'), kind).toBeLessThan(1);
        const mean = n(ri, 'totalRoundTripTime') / n(ri, 'roundTripTimeMeasurements');
        expect(mean, kind).toBeGreaterThan(0);
        expect(mean, kind).toBeLessThan(1);
        expect(n(ri, 'packetsLost'), kind).toBe(0);
        expect(n(ri, 'fractionLost'), kind).toBe(0);
      }
      // Key-frame requests: what Chromium says it sent is what we counted, one event each.
      const pli = n(one(out.chromium, 'inbound-rtp', 'video'), 'pliCount');
      expect(n(one(out.ours, 'outbound-rtp', 'video'), 'pliCount')).toBe(pli);
      expect(out.keyFrameRequests.filter((r) => r === 'pli')).toHaveLength(pli);
      // The other way one may be in flight: our receiver asks again and again while the
      // stream it receives is stalled, as Chromium's is once it stopped sending.
      const ourPli = n(one(out.ours, 'inbound-rtp', 'video'), 'pliCount');
      const theirPli = n(one(out.chromium, 'outbound-rtp', 'video'), 'pliCount');
      expect(Math.abs(ourPli - theirPli), `${ourPli} sent, ${theirPli} got`).toBeLessThanOrEqual(1);
    }, 200_000);

    it('a PLI from Chromium shows in our outbound pliCount: our video cut off for 4 s, Chromium asks for a key frame', () => {
      // Media and RTX of our video are dropped for 4 s (audio and RTCP go on). Chromium has
      // no decodable frame and none of its NACKs can be answered: libwebrtc asks for a key
      // frame when it has had no decodable frame for 3 s.
      const out = run({ outageSeconds: 4 });
      const before = one(out.beforeOutage?.c ?? [], 'inbound-rtp', 'video');
      const after = one(out.afterOutage?.c ?? [], 'inbound-rtp', 'video');
      const final = one(out.chromium, 'inbound-rtp', 'video');
      expect(n(after, 'pliCount'), 'PLIs Chromium sent during the outage').toBeGreaterThan(
        n(before, 'pliCount'),
      );
      // Every one arrived (RTCP was not dropped), was counted and reached the app.
      const ours = one(out.ours, 'outbound-rtp', 'video');
      expect(n(ours, 'pliCount')).toBe(n(final, 'pliCount'));
      expect(out.keyFrameRequests.filter((r) => r === 'pli')).toHaveLength(n(ours, 'pliCount'));
      const afterOurs = one(out.afterOutage?.k ?? [], 'outbound-rtp', 'video');
      expect(n(afterOurs, 'pliCount')).toBeGreaterThan(
        n(one(out.beforeOutage?.k ?? [], 'outbound-rtp', 'video'), 'pliCount'),
      );
      // The answer (an IDR) made Chromium decode again.
      expect(n(final, 'keyFramesDecoded')).toBeGreaterThan(n(after, 'keyFramesDecoded'));
      expect(n(final, 'framesDecoded')).toBeGreaterThan(n(after, 'framesDecoded') + 25);
      // The outage is the loss both sides see on our video.
      const lost = n(final, 'packetsLost');
      expect(lost).toBeGreaterThan(0);
      expect(n(one(out.ours, 'remote-inbound-rtp', 'video'), 'packetsLost')).toBe(lost);
      expect(n(ours, 'nackCount')).toBe(n(final, 'nackCount'));
    }, 200_000);

    it('5% loss shows in fractionLost, packetsLost and nackCount, as we and Chromium see it', () => {
      // 20 s of media: Chromium sends audio receiver reports about every 5 s (randomized),
      // so 6 s could hold a single one on a busy machine (seen: 1 sample with it, not 4).
      const out = run({ lossProbability: 0.05, seconds: 20 });
      for (const [us, them] of [
        ['ours', 'chromium'],
        ['chromium', 'ours'],
      ] as const) {
        for (const kind of KINDS) {
          const what = `${kind} sent by ${us}`;
          // fractionLost is per report interval: in some of the reports during the call.
          const fractions = out.samples
            .flatMap((s) => s[us])
            .filter((s) => s['type'] === 'remote-inbound-rtp' && s['kind'] === kind)
            .map((s) => n(s, 'fractionLost'));
          expect(fractions.length, what).toBeGreaterThan(3);
          expect(Math.max(...fractions), `${what}: fractionLost`).toBeGreaterThan(0);
          expect(Math.max(...fractions), `${what}: fractionLost`).toBeLessThan(0.5);
          // packetsLost: the receiver's own count, and the sender's view of it from the last
          // receiver report (sent after the last packet: the reports went on while quiet).
          const receiver = one(out[them], 'inbound-rtp', kind);
          const senderView = one(out[us], 'remote-inbound-rtp', kind);
          expect(n(receiver, 'packetsLost'), what).toBeGreaterThan(0);
          expect(n(senderView, 'packetsLost'), `${what}: as reported`).toBe(
            n(receiver, 'packetsLost'),
          );
        }
        // NACKs for the video: the receiver counts those it sent, the sender those that came
        // through (5% of them are lost too).
        const nacksSent = n(one(out[them], 'inbound-rtp', 'video'), 'nackCount');
        const nacksGot = n(one(out[us], 'outbound-rtp', 'video'), 'nackCount');
        expect(nacksGot, `NACKs ${us} got`).toBeGreaterThan(0);
        expect(nacksGot, `NACKs ${us} got`).toBeLessThanOrEqual(nacksSent);
        expect(nacksGot, `NACKs ${us} got`).toBeGreaterThanOrEqual(nacksSent / 2);
      }
      // Repairs: what we resent, Chromium took but for the resends that were lost.
      const resent = n(one(out.ours, 'outbound-rtp', 'video'), 'retransmittedPacketsSent');
      const took = n(one(out.chromium, 'inbound-rtp', 'video'), 'retransmittedPacketsReceived');
      expect(resent).toBeGreaterThan(0);
      expect(took).toBeLessThanOrEqual(resent);
      expect(took).toBeGreaterThanOrEqual(resent / 2);
    }, 200_000);
  },
);
