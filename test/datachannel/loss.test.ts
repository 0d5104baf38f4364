// Data channels under 5% packet loss each way: two kvs-webrtc peers in child processes, each
// in its own network namespace, joined by a veth pair on which iptables drops 5% of the UDP
// each side sends (statistic --mode random; this kernel has no netem). The loss starts once
// the channels are open. An unreliable channel (maxRetransmits 0) delivers a subset (in order
// when ordered) and never stalls; a reliable one delivers everything, in order, byte-exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutNetns } from '../helpers/netns.js';
import {
  makeLossyLink,
  relaySignaling,
  startPeerChild,
  type LossyLink,
  type PeerChild,
  type PeerMessage,
} from '../helpers/peer-process.js';

const LOSS = 0.05;
const UNRELIABLE_COUNT = 1000;
const UNRELIABLE_SIZE = 1000; // one DATA chunk each: a lost packet is a lost message
const RELIABLE_COUNT = 128;
const RELIABLE_SIZE = 16 * 1024;

let link: LossyLink | undefined;
let a: PeerChild | undefined;
let b: PeerChild | undefined;

function cleanup(): void {
  a?.kill();
  b?.kill();
  link?.destroy();
  link = undefined;
}

const sentOn = (label: string) => (m: PeerMessage) => m.type === 'sent' && m.label === label;

async function report(peer: PeerChild, label: string) {
  const before = peer.history.length;
  peer.send({ type: 'report', label });
  const m = await peer.waitFor(
    (x) => x.type === 'report' && x.label === label && peer.history.indexOf(x) >= before,
    30_000,
    `report on ${label}`,
  );
  return m as unknown as {
    count: number;
    bytes: number;
    seqs: number[];
    inOrder: boolean;
    digest: string;
  };
}

/** Resolves once the receiver's progress on `label` passes `atLeast` in count or sequence. */
function progressed(peer: PeerChild, label: string, field: 'count' | 'maxSeq', atLeast: number) {
  return peer.waitFor(
    (m) => m.type === 'progress' && m.label === label && (m[field] as number) >= atLeast,
    120_000,
    `${label} ${field} >= ${atLeast}`,
  );
}

describe.skipIf(skipWithoutNetns('data channels under loss'))(
  'data channels under 5% loss (network namespaces)',
  () => {
    beforeAll(async () => {
      try {
        link = makeLossyLink();
        a = startPeerChild({ address: link.addresses.a }, link.ns.a);
        b = startPeerChild({ address: link.addresses.b }, link.ns.b);
        relaySignaling(a, b);
        const labels = ['reliable', 'lossy-ordered', 'lossy-unordered'];
        a.send({
          type: 'start',
          channels: [
            { label: 'reliable', init: {} },
            { label: 'lossy-ordered', init: { maxRetransmits: 0 } },
            { label: 'lossy-unordered', init: { ordered: false, maxRetransmits: 0 } },
          ],
        });
        const [pa, pb] = [a, b];
        await Promise.all(
          [pa, pb].flatMap((p) =>
            labels.map((label) =>
              p.waitFor((m) => m.type === 'open' && m.label === label, 45_000, `${label} open`),
            ),
          ),
        );
        link.setLoss(LOSS);
      } catch (err) {
        cleanup();
        throw err;
      }
    }, 90_000);

    afterAll(() => {
      cleanup();
    });

    it('an ordered channel with maxRetransmits 0 delivers a subset, in order, and does not stall', async () => {
      if (!a || !b) throw new Error('no peers');
      a.send({
        type: 'send',
        label: 'lossy-ordered',
        count: UNRELIABLE_COUNT,
        size: UNRELIABLE_SIZE,
        highWater: 64 * 1024,
        lowThreshold: 16 * 1024,
      });
      await a.waitFor(sentOn('lossy-ordered'), 120_000, 'lossy-ordered sent');
      // A channel that stalled at its first loss (no FORWARD-TSN) would never get here.
      await progressed(b, 'lossy-ordered', 'maxSeq', UNRELIABLE_COUNT * 0.9);
      const r = await report(b, 'lossy-ordered');
      expect(r.inOrder).toBe(true);
      for (let i = 1; i < r.seqs.length; i++) {
        expect(r.seqs[i]).toBeGreaterThan(r.seqs[i - 1] ?? -1);
      }
      expect(r.seqs.every((s) => s >= 0 && s < UNRELIABLE_COUNT)).toBe(true);
      // A subset: some were lost and not retransmitted (P(no loss in 1000) is ~1e-22)...
      expect(r.count).toBeLessThan(UNRELIABLE_COUNT);
      // ...and most arrived.
      expect(r.count).toBeGreaterThan(UNRELIABLE_COUNT * 0.7);
    }, 180_000);

    it('an unordered channel with maxRetransmits 0 delivers a subset, each message once, and does not stall', async () => {
      if (!a || !b) throw new Error('no peers');
      a.send({
        type: 'send',
        label: 'lossy-unordered',
        count: UNRELIABLE_COUNT,
        size: UNRELIABLE_SIZE,
        highWater: 64 * 1024,
        lowThreshold: 16 * 1024,
      });
      await a.waitFor(sentOn('lossy-unordered'), 120_000, 'lossy-unordered sent');
      await progressed(b, 'lossy-unordered', 'maxSeq', UNRELIABLE_COUNT * 0.9);
      const r = await report(b, 'lossy-unordered');
      expect(new Set(r.seqs).size).toBe(r.seqs.length);
      expect(r.seqs.every((s) => s >= 0 && s < UNRELIABLE_COUNT)).toBe(true);
      expect(r.count).toBeLessThan(UNRELIABLE_COUNT);
      expect(r.count).toBeGreaterThan(UNRELIABLE_COUNT * 0.7);
    }, 180_000);

    it('a reliable channel delivers everything, in order, byte-exact', async () => {
      if (!a || !b) throw new Error('no peers');
      a.send({
        type: 'send',
        label: 'reliable',
        count: RELIABLE_COUNT,
        size: RELIABLE_SIZE,
        highWater: 512 * 1024,
        lowThreshold: 128 * 1024,
      });
      const sent = (await a.waitFor(sentOn('reliable'), 240_000, 'reliable sent')) as unknown as {
        digest: string;
        bytes: number;
      };
      await progressed(b, 'reliable', 'count', RELIABLE_COUNT);
      const r = await report(b, 'reliable');
      expect(r.count).toBe(RELIABLE_COUNT);
      expect(r.inOrder).toBe(true);
      expect(r.seqs).toEqual([...Array(RELIABLE_COUNT).keys()]);
      expect(r.bytes).toBe(sent.bytes);
      expect(r.digest).toBe(sent.digest);
    }, 300_000);

    it('the loss was real: both sides dropped packets', () => {
      if (!link) throw new Error('no link');
      const dropped = link.dropped();
      expect(dropped.a).toBeGreaterThan(0);
      expect(dropped.b).toBeGreaterThan(0);
    });
  },
);
