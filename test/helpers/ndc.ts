// A kvs-webrtc peer and a node-datachannel 0.33 (libdatachannel) peer connected on loopback,
// for the data-channel interop suites. libdatachannel negotiates by itself: its descriptions
// come from onLocalDescription, and it throws on a candidate that precedes its remote
// description, so ours are held until then (as a signaling layer would).
import nodeDataChannel from 'node-datachannel';
import { clearTimeout, setTimeout } from 'node:timers';
import { PeerConnection, type PeerConnectionConfig } from '../../lib/index.js';
import type { StreamSink } from './dc.js';
import { LOOPBACK, candidateSink, waitForState } from './peers.js';

export type NdcPeer = InstanceType<typeof nodeDataChannel.PeerConnection>;
export type NdcChannel = ReturnType<NdcPeer['createDataChannel']>;
export type NdcConfig = ConstructorParameters<typeof nodeDataChannel.PeerConnection>[1];

/** Host candidates on 127.0.0.1 only, no STUN server. */
export const NDC_LOOPBACK: NdcConfig = { iceServers: [], bindAddress: '127.0.0.1' };

export function ndcConnected(peer: NdcPeer, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (peer.state() === 'connected') {
      resolve();
      return;
    }
    const timer = setTimeout(
      () => reject(new Error(`node-datachannel stuck in ${peer.state()}`)),
      ms,
    );
    peer.onStateChange((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (s === 'failed') {
        clearTimeout(timer);
        reject(new Error('node-datachannel failed'));
      }
    });
  });
}

export interface NdcSide {
  peer: NdcPeer;
  /** Channels the peer announced (onDataChannel), in order. */
  announced: NdcChannel[];
  /** createDataChannel on their side. */
  open(label: string, init?: Parameters<NdcPeer['createDataChannel']>[1]): NdcChannel;
}

export interface NdcPair {
  ours: PeerConnection;
  theirs: NdcSide;
  close(): Promise<void>;
}

/**
 * Connects the two, `who` offering. `prepare` runs before the offer: it creates the channels
 * (on our side a channel or enableDataChannels() puts the application m-line in the offer; on
 * theirs the first createDataChannel starts libdatachannel's own negotiation).
 */
export async function connectNdc(
  who: 'kvs offers' | 'ndc offers',
  prepare: (ours: PeerConnection, theirs: NdcSide) => void | Promise<void>,
  options: { ours?: PeerConnectionConfig; theirs?: NdcConfig } = {},
): Promise<NdcPair> {
  const ours = new PeerConnection(options.ours ?? LOOPBACK);
  const theirs = new nodeDataChannel.PeerConnection('theirs', options.theirs ?? NDC_LOOPBACK);
  // node-datachannel 0.33 keeps raw pointers to its channel wrappers in a set that only a
  // delivered onClosed removes them from; a wrapper garbage-collected while still in it leaves
  // a dangling pointer that cleanup() dereferences (DataChannelWrapper::CloseAll, seen in a core
  // dump), crashing the process. So every channel of theirs is made through `side.open` or
  // announced through `side.announced`, closed by hand, and kept referenced for the life of the
  // process (see keptForLife).
  const channels: NdcChannel[] = [];
  const side: NdcSide = {
    peer: theirs,
    announced: [],
    open(label, init) {
      // It takes no `undefined` for the init object.
      const c = init ? theirs.createDataChannel(label, init) : theirs.createDataChannel(label);
      channels.push(c);
      return c;
    },
  };
  theirs.onDataChannel((c) => {
    channels.push(c);
    side.announced.push(c);
  });
  const close = async () => {
    for (const c of channels.splice(0)) {
      keptForLife.push(c);
      try {
        c.close();
      } catch {
        // closed and destroyed already
      }
    }
    await ours.close();
    theirs.close();
  };
  try {
    const toOurs = candidateSink(ours);
    theirs.onLocalCandidate((candidate) => toOurs.add(candidate));
    const held: [string, string][] = [];
    let theirsReady = false;
    ours.on('icecandidate', (c) => {
      if (!c) return;
      if (theirsReady) theirs.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
      else held.push([c.candidate, c.sdpMid ?? '0']);
    });
    const release = () => {
      theirsReady = true;
      for (const [c, mid] of held.splice(0)) theirs.addRemoteCandidate(c, mid);
    };
    const theirDescription = (type: 'offer' | 'answer') =>
      new Promise<string>((resolve) =>
        theirs.onLocalDescription((sdp, t) => {
          if (t === type) resolve(sdp);
        }),
      );
    const theirState = ndcConnected(theirs);
    if (who === 'kvs offers') {
      const answer = theirDescription('answer');
      await prepare(ours, side);
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      theirs.setRemoteDescription(offer.sdp, 'offer');
      release();
      await ours.setRemoteDescription({ type: 'answer', sdp: await answer });
    } else {
      const offer = theirDescription('offer');
      await prepare(ours, side);
      await ours.setRemoteDescription({ type: 'offer', sdp: await offer });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      theirs.setRemoteDescription(answer.sdp, 'answer');
      release();
    }
    await Promise.all([waitForState(ours, 'connected'), theirState]);
    const [firstError] = toOurs.errors;
    if (firstError) throw firstError;
    return { ours, theirs: side, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Everything a node-datachannel channel receives (Buffers for binary). */
export function ndcCollect(channel: NdcChannel): (string | Buffer)[] {
  const got: (string | Buffer)[] = [];
  channel.onMessage((m) =>
    got.push(typeof m === 'string' || Buffer.isBuffer(m) ? m : Buffer.from(m)),
  );
  return got;
}

/** libdatachannel's send returns false when it queued the message rather than sent it: not
 * a failure (it throws on one). */
export function ndcSend(channel: NdcChannel, m: string | Buffer): void {
  if (typeof m === 'string') channel.sendMessage(m);
  else channel.sendMessageBinary(m);
}

export function ndcOpened(channel: NdcChannel, ms = 30_000): Promise<void> {
  if (channel.isOpen()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node-datachannel channel never opened')), ms);
    channel.onOpen(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function ndcSink(channel: NdcChannel): StreamSink {
  return {
    send: (data) => ndcSend(channel, data),
    bufferedAmount: () => channel.bufferedAmount(),
    setLowThreshold: (bytes) => channel.setBufferedAmountLowThreshold(bytes),
    onLow: (listener) => channel.onBufferedAmountLow(listener),
  };
}

// Never released, and nodeDataChannel.cleanup() is never called: it blocks the JS thread
// until libdatachannel has closed every connection and stopped its threads, with no bound on
// the closing part, and a blocked JS thread is a hang that no test timeout can end (a CI run
// sat past its limit in the node-datachannel suites). The test worker's exit frees it all.
const keptForLife: NdcChannel[] = [];
