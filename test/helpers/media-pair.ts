// A connected pair of kvs-webrtc peers on loopback with one sending transceiver, for the media
// suites: the offerer sends, the answerer receives.
import {
  PeerConnection,
  type Codec,
  type MediaKind,
  type ReceivedFrame,
  type Transceiver,
} from '../../lib/index.js';
import { LOOPBACK, negotiate, trickle, waitForState } from './peers.js';

export interface MediaPair {
  offerer: PeerConnection;
  answerer: PeerConnection;
  send: Transceiver;
  recv: Transceiver;
  received: ReceivedFrame[];
  keyFrameRequests: string[];
  close(): Promise<void>;
}

export async function mediaPair(kind: MediaKind, codec: Codec): Promise<MediaPair> {
  const offerer = new PeerConnection(LOOPBACK);
  const answerer = new PeerConnection(LOOPBACK);
  const close = async () => {
    await Promise.all([offerer.close(), answerer.close()]);
  };
  try {
    trickle(offerer, answerer);
    const send = await offerer.addTransceiver({ kind, codecs: [codec], direction: 'sendonly' });
    const keyFrameRequests: string[] = [];
    send.on('keyframerequest', (r) => keyFrameRequests.push(r.reason));
    let recv: Transceiver | undefined;
    const received: ReceivedFrame[] = [];
    answerer.on('track', (t) => {
      recv = t;
      t.on('frame', (f) => received.push(f));
    });
    await negotiate(offerer, answerer);
    await Promise.all([waitForState(offerer, 'connected'), waitForState(answerer, 'connected')]);
    if (!recv) throw new Error('the answerer saw no track');
    return { offerer, answerer, send, recv, received, keyFrameRequests, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `done` holds, polling every 20 ms. */
export async function until(
  done: () => boolean,
  ms = 30_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
