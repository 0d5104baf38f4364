// Data channels between kvs-webrtc and werift 0.24 (a TypeScript stack with its own SCTP, not
// usrsctp) on loopback: messages both ways on ordered and unordered channels, text and binary,
// channels opened by either side whoever offered, negotiated channels, and closing one
// channel of three.
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataChannel, PeerConnection } from '../../lib/index.js';
import { deadline, exchange, once, opened, until, type ForeignEnd } from '../helpers/dc.js';
import {
  connectWerift,
  weriftClosed,
  weriftCollect,
  weriftOpened,
  type WeriftPair,
} from '../helpers/werift.js';

let pairs: WeriftPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.close()));
  pairs = [];
});

async function connect(...args: Parameters<typeof connectWerift>): Promise<WeriftPair> {
  const p = await connectWerift(...args);
  pairs.push(p);
  return p;
}

function foreign(channel: RTCDataChannel): ForeignEnd {
  return { send: (m) => channel.send(m), received: weriftCollect(channel) };
}

function ourAnnounced(ours: PeerConnection): DataChannel[] {
  const list: DataChannel[] = [];
  ours.on('datachannel', (c) => list.push(c));
  return list;
}

describe('data channels with werift 0.24', () => {
  for (const offerer of ['kvs', 'werift'] as const) {
    for (const opener of ['kvs', 'werift'] as const) {
      it(`${offerer} offers, ${opener} opens: ordered and unordered, text and binary, both ways`, async () => {
        let mine: DataChannel[] = [];
        let theirs: RTCDataChannel[] = [];
        let ourSide: DataChannel[] = [];
        const openOurs = (o: PeerConnection) => [
          o.createDataChannel('ordered', { protocol: 'x-ordered' }),
          o.createDataChannel('unordered', { ordered: false }),
        ];
        const openTheirs = (t: RTCPeerConnection) => [
          t.createDataChannel('ordered', { protocol: 'x-ordered' }),
          t.createDataChannel('unordered', { ordered: false }),
        ];
        const pair = await connect(
          offerer === 'kvs' ? 'kvs offers' : 'werift offers',
          async (o, t) => {
            ourSide = ourAnnounced(o);
            if (offerer === opener) {
              if (opener === 'kvs') mine = openOurs(o);
              else theirs = openTheirs(t);
            } else if (offerer === 'kvs') {
              await o.enableDataChannels();
            } else {
              // werift puts an application m-line in its offer only with a channel.
              t.createDataChannel('bootstrap');
            }
          },
        );
        if (offerer !== opener) {
          if (opener === 'kvs') mine = openOurs(pair.ours);
          else theirs = openTheirs(pair.theirs);
        }
        let ends: [DataChannel, RTCDataChannel][];
        if (opener === 'kvs') {
          await Promise.all(mine.map((c) => opened(c)));
          await until(() => pair.announced.length >= 2, 30_000, 'werift datachannel events');
          ends = mine.map((c) => {
            const t = pair.announced.find((x) => x.label === c.label);
            if (!t) throw new Error(`no channel ${c.label} on their side`);
            return [c, t];
          });
          expect(ends[0]?.[1].protocol).toBe('x-ordered');
          expect(ends[1]?.[1].ordered).toBe(false);
        } else {
          await Promise.all(theirs.map((c) => weriftOpened(c)));
          await until(
            () => ourSide.filter((c) => c.label !== 'bootstrap').length >= 2,
            30_000,
            'our datachannel events',
          );
          ends = theirs.map((t) => {
            const c = ourSide.find((x) => x.label === t.label);
            if (!c) throw new Error(`no channel ${t.label} on our side`);
            return [c, t];
          });
          expect(ends[0]?.[0].protocol).toBe('x-ordered');
          expect(ends[1]?.[0].ordered).toBe(false);
        }
        for (const [c, t] of ends) {
          expect(c.readyState).toBe('open');
          expect(c.id).toBe(t.id);
        }
        const [first, second] = ends as [
          [DataChannel, RTCDataChannel],
          [DataChannel, RTCDataChannel],
        ];
        await exchange(first[0], foreign(first[1]), true);
        await exchange(second[0], foreign(second[1]), false);
      }, 120_000);
    }
  }

  it('negotiated channels (ordered id 3, unordered id 8) carry messages both ways, and nothing is announced', async () => {
    let ordered: [DataChannel, RTCDataChannel] | undefined;
    let unordered: [DataChannel, RTCDataChannel] | undefined;
    let ourSide: DataChannel[] = [];
    const pair = await connect('kvs offers', (o, t) => {
      ourSide = ourAnnounced(o);
      ordered = [
        o.createDataChannel('neg-ordered', { negotiated: true, id: 3 }),
        t.createDataChannel('neg-ordered', { negotiated: true, id: 3 }),
      ];
      unordered = [
        o.createDataChannel('neg-unordered', { negotiated: true, id: 8, ordered: false }),
        t.createDataChannel('neg-unordered', { negotiated: true, id: 8, ordered: false }),
      ];
    });
    if (!ordered || !unordered) throw new Error('channels not made');
    for (const [c, t] of [ordered, unordered]) {
      await opened(c);
      await weriftOpened(t);
    }
    expect(ordered[0].id).toBe(3);
    expect(unordered[0].id).toBe(8);
    await exchange(ordered[0], foreign(ordered[1]), true);
    await exchange(unordered[0], foreign(unordered[1]), false);
    expect(ourSide).toEqual([]);
    expect(pair.announced).toEqual([]);
  }, 120_000);

  it('closing one of three open channels (werift closes it) leaves the other two working', async () => {
    let mine: DataChannel[] = [];
    const pair = await connect('kvs offers', (o) => {
      mine = ['one', 'two', 'three'].map((l) => o.createDataChannel(l));
    });
    await Promise.all(mine.map((c) => opened(c)));
    await until(() => pair.announced.length === 3, 30_000, 'werift channels');
    const theirOf = (label: string) => {
      const t = pair.announced.find((c) => c.label === label);
      if (!t) throw new Error(`no ${label}`);
      return t;
    };
    const [one, two, three] = mine as [DataChannel, DataChannel, DataChannel];
    const ourOneClosed = once(one, 'close');
    theirOf('one').close();
    await deadline(Promise.all([ourOneClosed, weriftClosed(theirOf('one'))]), 30_000, 'closing');
    expect(one.readyState).toBe('closed');
    for (const c of [two, three]) {
      expect(c.readyState).toBe('open');
      await exchange(c, foreign(theirOf(c.label)), true);
    }
  }, 120_000);
});
