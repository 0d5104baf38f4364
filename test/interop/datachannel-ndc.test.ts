// Data channels between kvs-webrtc and node-datachannel 0.33 (libdatachannel, which runs
// usrsctp with its own settings) on loopback: messages both ways on ordered and unordered
// channels, text and binary, channels opened by either side whoever offered, negotiated
// channels, 64 MiB with back-pressure each way, one 4 MiB message both ways, and closing one
// channel of three.
import { afterEach, describe, expect, it } from 'vitest';
import type { DataChannel, PeerConnection } from '../../lib/index.js';
import {
  MiB,
  collect,
  deadline,
  keysOf,
  kvsSink,
  once,
  opened,
  sampleMessages,
  streamIn,
  streamOut,
  until,
  type StreamOptions,
} from '../helpers/dc.js';
import {
  NDC_LOOPBACK,
  connectNdc,
  ndcCollect,
  ndcOpened,
  ndcSend,
  ndcSink,
  type NdcChannel,
  type NdcPair,
  type NdcSide,
} from '../helpers/ndc.js';

let pairs: NdcPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.close()));
  pairs = [];
});

async function connect(...args: Parameters<typeof connectNdc>): Promise<NdcPair> {
  const p = await connectNdc(...args);
  pairs.push(p);
  return p;
}

/** Our channels as they are announced. */
function ourAnnounced(ours: PeerConnection): DataChannel[] {
  const list: DataChannel[] = [];
  ours.on('datachannel', (c) => list.push(c));
  return list;
}

/** Sends the sample set each way on a channel pair and checks what arrived. */
async function exchange(ourEnd: DataChannel, theirEnd: NdcChannel, ordered: boolean) {
  const atOurs = collect(ourEnd);
  const atTheirs = ndcCollect(theirEnd);
  const toTheirs = sampleMessages(`kvs->ndc ${ourEnd.label}`);
  const toOurs = sampleMessages(`ndc->kvs ${ourEnd.label}`);
  for (const m of toTheirs) ourEnd.send(m);
  for (const m of toOurs) ndcSend(theirEnd, m);
  await until(
    () => atOurs.length >= toOurs.length && atTheirs.length >= toTheirs.length,
    60_000,
    `messages on ${ourEnd.label}`,
  );
  expect(keysOf(atTheirs, ordered)).toEqual(keysOf(toTheirs, ordered));
  expect(keysOf(atOurs, ordered)).toEqual(keysOf(toOurs, ordered));
}

describe('data channels with node-datachannel 0.33', () => {
  for (const offerer of ['kvs', 'ndc'] as const) {
    for (const opener of ['kvs', 'ndc'] as const) {
      it(`${offerer} offers, ${opener} opens: ordered and unordered, text and binary, both ways`, async () => {
        let ourChannels: DataChannel[] = [];
        let theirChannels: NdcChannel[] = [];
        let ourSide: DataChannel[] = [];
        let theirSide: NdcChannel[] = [];
        const openOurs = (ours: PeerConnection) => [
          ours.createDataChannel('ordered', { protocol: 'x-ordered' }),
          ours.createDataChannel('unordered', { ordered: false }),
        ];
        const openTheirs = (theirs: NdcSide) => [
          theirs.open('ordered', { protocol: 'x-ordered' }),
          theirs.open('unordered', { unordered: true }),
        ];
        const { ours, theirs } = await connect(
          offerer === 'kvs' ? 'kvs offers' : 'ndc offers',
          async (o, t) => {
            theirSide = t.announced;
            ourSide = ourAnnounced(o);
            if (offerer === opener) {
              if (opener === 'kvs') ourChannels = openOurs(o);
              else theirChannels = openTheirs(t);
            } else if (offerer === 'kvs') {
              await o.enableDataChannels();
            } else {
              // libdatachannel offers only with something to negotiate.
              t.open('bootstrap');
            }
          },
        );
        if (offerer !== opener) {
          if (opener === 'kvs') ourChannels = openOurs(ours);
          else {
            // libdatachannel sends DATA_CHANNEL_OPEN twice on the same stream when a channel
            // is created as its SCTP association comes up (seen in about 1 run in 6: its
            // createDataChannel and its own "open the pending channels" both send one), and
            // RFC 8832 §6 has us close a channel whose stream gets a second OPEN. So its
            // channels are made once its SCTP is surely up: after it announced one of ours.
            ours.createDataChannel('bootstrap');
            await until(() => theirSide.length === 1, 30_000, 'their bootstrap channel');
            theirSide.length = 0;
            theirChannels = openTheirs(theirs);
          }
        }
        const names = (n: { label?: string; getLabel?: () => string }) =>
          n.label ?? n.getLabel?.() ?? '';
        let pairs: [DataChannel, NdcChannel][];
        if (opener === 'kvs') {
          await Promise.all(ourChannels.map((c) => opened(c)));
          await until(() => theirSide.length >= 2, 30_000, 'their datachannel events');
          pairs = ourChannels.map((c) => {
            const t = theirSide.find((x) => x.getLabel() === c.label);
            if (!t) throw new Error(`no channel ${c.label} on their side`);
            return [c, t];
          });
          // Parameters came through DCEP.
          expect(pairs[0]?.[1].getProtocol()).toBe('x-ordered');
        } else {
          await Promise.all(theirChannels.map((c) => ndcOpened(c)));
          await until(
            () => ourSide.filter((c) => c.label !== 'bootstrap').length >= 2,
            30_000,
            'our datachannel events',
          );
          pairs = theirChannels.map((t) => {
            const c = ourSide.find((x) => x.label === t.getLabel());
            if (!c) throw new Error(`no channel ${t.getLabel()} on our side`);
            return [c, t];
          });
          expect(pairs[0]?.[0].protocol).toBe('x-ordered');
          expect(pairs[0]?.[0].ordered).toBe(true);
          expect(pairs[1]?.[0].ordered).toBe(false);
        }
        for (const [c, t] of pairs) {
          expect(c.readyState).toBe('open');
          expect(c.id).toBe(t.getId());
          expect(names(c)).toBe(t.getLabel());
        }
        const [first, second] = pairs as [[DataChannel, NdcChannel], [DataChannel, NdcChannel]];
        await exchange(first[0], first[1], true);
        await exchange(second[0], second[1], false);
      }, 120_000);
    }
  }

  it('negotiated channels (ordered id 3, unordered id 8) carry messages both ways, and nothing is announced', async () => {
    let ordered: [DataChannel, NdcChannel] | undefined;
    let unordered: [DataChannel, NdcChannel] | undefined;
    let ours: DataChannel[] = [];
    let theirs: NdcChannel[] = [];
    await connect('kvs offers', (o, t) => {
      ours = ourAnnounced(o);
      theirs = t.announced;
      ordered = [
        o.createDataChannel('neg-ordered', { negotiated: true, id: 3 }),
        t.open('neg-ordered', { negotiated: true, id: 3 }),
      ];
      unordered = [
        o.createDataChannel('neg-unordered', { negotiated: true, id: 8, ordered: false }),
        t.open('neg-unordered', { negotiated: true, id: 8, unordered: true }),
      ];
    });
    if (!ordered || !unordered) throw new Error('channels not made');
    for (const [c, t] of [ordered, unordered]) {
      await opened(c);
      await ndcOpened(t);
    }
    expect(ordered[0].id).toBe(3);
    expect(unordered[0].id).toBe(8);
    await exchange(ordered[0], ordered[1], true);
    await exchange(unordered[0], unordered[1], false);
    expect(ours).toEqual([]);
    expect(theirs).toEqual([]);
  }, 120_000);

  const STREAM: StreamOptions = {
    totalBytes: 64 * MiB,
    messageBytes: 16 * 1024,
    highWater: 1 * MiB,
    lowThreshold: 256 * 1024,
  };

  for (const direction of ['kvs to ndc', 'ndc to kvs'] as const) {
    it(`64 MiB with back-pressure arrives complete and in order, ${direction}`, async () => {
      let theirs: NdcChannel[] = [];
      let channel: DataChannel | undefined;
      await connect('kvs offers', (o, t) => {
        theirs = t.announced;
        channel = o.createDataChannel('bulk');
      });
      if (!channel) throw new Error('no channel');
      await opened(channel);
      await until(() => theirs.length === 1, 30_000, 'their channel');
      const theirEnd = theirs[0] as NdcChannel;
      const inbound = streamIn(STREAM.totalBytes);
      let sent;
      if (direction === 'kvs to ndc') {
        theirEnd.onMessage((m) => inbound.onMessage(m));
        sent = await deadline(streamOut(kvsSink(channel), STREAM), 240_000, 'sending');
      } else {
        channel.on('message', (m) => inbound.onMessage(m));
        sent = await deadline(streamOut(ndcSink(theirEnd), STREAM), 240_000, 'sending');
      }
      const got = await deadline(inbound.done, 120_000, 'receiving');
      expect(got.bytes).toBe(STREAM.totalBytes);
      expect(got.messages).toBe(sent.messages);
      expect(got.digest).toBe(sent.digest);
      expect(sent.maxBuffered).toBeGreaterThanOrEqual(STREAM.highWater);
      expect(sent.lowEvents).toBeGreaterThan(0);
    }, 300_000);
  }

  it('a 4 MiB message round-trips byte-exact (node-datachannel configured with maxMessageSize 8 MiB)', async () => {
    let theirs: NdcChannel[] = [];
    let channel: DataChannel | undefined;
    // libdatachannel advertises and accepts 256 KiB by default; its RtcConfig.maxMessageSize
    // raises both (its a=max-message-size and what its SCTP transport reassembles).
    await connect(
      'kvs offers',
      (o, t) => {
        theirs = t.announced;
        channel = o.createDataChannel('big');
      },
      { theirs: { ...NDC_LOOPBACK, maxMessageSize: 8 * MiB } },
    );
    if (!channel) throw new Error('no channel');
    await opened(channel);
    expect(channel.maxMessageSize).toBe(8 * MiB);
    await until(() => theirs.length === 1, 30_000, 'their channel');
    const theirEnd = theirs[0] as NdcChannel;
    // Our default (16 MiB) is what they may send us.
    expect(theirEnd.maxMessageSize()).toBeGreaterThanOrEqual(4 * MiB);
    const echoed: Buffer[] = [];
    let theyGot = 0;
    theirEnd.onMessage((m) => {
      const b = Buffer.isBuffer(m) ? m : Buffer.from(m as ArrayBuffer);
      theyGot = b.length;
      ndcSend(theirEnd, b);
    });
    channel.on('message', (m) => {
      if (Buffer.isBuffer(m)) echoed.push(m);
    });
    const big = (await import('node:crypto')).randomBytes(4 * MiB);
    channel.send(big);
    await until(() => echoed.length === 1, 120_000, 'the echo');
    expect(theyGot).toBe(4 * MiB);
    expect(echoed[0]?.equals(big)).toBe(true);
  }, 180_000);

  it('closing one of three open channels leaves the other two working, both ways', async () => {
    let theirs: NdcChannel[] = [];
    let mine: DataChannel[] = [];
    await connect('kvs offers', (o, t) => {
      theirs = t.announced;
      mine = ['one', 'two', 'three'].map((l) => o.createDataChannel(l));
    });
    await Promise.all(mine.map((c) => opened(c)));
    await until(() => theirs.length === 3, 30_000, 'their channels');
    // A closed node-datachannel channel throws on every call: labels are read while open.
    const labels = theirs.map((c) => c.getLabel());
    const theirOf = (label: string) => {
      const t = theirs[labels.indexOf(label)];
      if (!t) throw new Error(`no ${label}`);
      return t;
    };
    const [one, two, three] = mine as [DataChannel, DataChannel, DataChannel];
    const theirOneClosed = new Promise<void>((resolve) => theirOf('one').onClosed(resolve));
    const ourOneClosed = once(one, 'close');
    one.close();
    await deadline(Promise.all([theirOneClosed, ourOneClosed]), 30_000, 'closing one');
    expect(one.readyState).toBe('closed');
    expect(() => one.send('x')).toThrow(/closed, not open/);
    for (const c of [two, three]) {
      expect(c.readyState).toBe('open');
      await exchange(c, theirOf(c.label), true);
    }
  }, 120_000);
});
