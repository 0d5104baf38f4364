import {
  PeerConnection,
  type PeerConnectionConfig,
  type PeerConnectionState,
} from '../../lib/index.js';

/** Host candidates on 127.0.0.1 only: the tests' traffic never leaves loopback. */
export const LOOPBACK: PeerConnectionConfig = { interfaces: { only: ['127.0.0.1'] } };

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Resolves when the connection reaches `state`; rejects on failed/closed or after `ms`. The
 * verdict should come from the connection: the deadline is only a safety net, above the
 * core's own timeouts (12 s of checks from the first pair, 12 s more for a nomination after
 * the first success, a TURN connect of up to 5 s before that) and below vitest's 60 s.
 */
export function waitForState(
  pc: PeerConnection,
  state: PeerConnectionState,
  ms = 45_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pc.connectionState === state) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      pc.off('connectionstatechange', on);
      reject(new Error(`timed out waiting for ${state}; state is ${pc.connectionState}`));
    }, ms);
    function on(s: PeerConnectionState): void {
      if (s === state) {
        clearTimeout(timer);
        pc.off('connectionstatechange', on);
        resolve();
      } else if ((s === 'failed' || s === 'closed') && state !== s) {
        clearTimeout(timer);
        pc.off('connectionstatechange', on);
        reject(new Error(`connection went ${s} while waiting for ${state}`));
      }
    }
    pc.on('connectionstatechange', on);
  });
}

/**
 * Trickles each side's candidates to the other, holding those that arrive before the
 * other side has a remote description (as a signaling layer does). Returns the errors
 * addIceCandidate raised, other than those of a connection already closed.
 */
export function trickle(a: PeerConnection, b: PeerConnection): Error[] {
  const errors: Error[] = [];
  const wire = (from: PeerConnection, to: PeerConnection) => {
    const held: string[] = [];
    const flush = () => {
      while (held.length > 0 && to.remoteDescription) {
        to.addIceCandidate(held.shift() ?? '').catch((err: unknown) => {
          if (to.signalingState !== 'closed') errors.push(asError(err));
        });
      }
    };
    from.on('icecandidate', (c) => {
      if (!c) return;
      held.push(c.candidate);
      flush();
    });
    to.on('signalingstatechange', flush);
  };
  wire(a, b);
  wire(b, a);
  return errors;
}

/** Offer from `offerer`, answer from `answerer`, with an optional edit of the answer. */
export async function negotiate(
  offerer: PeerConnection,
  answerer: PeerConnection,
  editAnswer: (sdp: string) => string = (s) => s,
): Promise<void> {
  const offer = await offerer.createOffer();
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  const answer = await answerer.createAnswer();
  await answerer.setLocalDescription(answer);
  await offerer.setRemoteDescription({ type: 'answer', sdp: editAnswer(answer.sdp) });
}

/**
 * A place to put remote candidates for `pc` from another stack: held until `pc` has a
 * remote description, then added in order. Errors (other than after close) are collected.
 */
export function candidateSink(pc: PeerConnection): {
  add(candidate: string): void;
  errors: Error[];
} {
  const errors: Error[] = [];
  const held: string[] = [];
  const flush = () => {
    while (held.length > 0 && pc.remoteDescription) {
      pc.addIceCandidate(held.shift() ?? '').catch((err: unknown) => {
        if (pc.signalingState !== 'closed') errors.push(asError(err));
      });
    }
  };
  pc.on('signalingstatechange', flush);
  return {
    add(candidate: string) {
      held.push(candidate);
      flush();
    },
    errors,
  };
}

/**
 * Gathers for an offer with a data channel: every candidate `pc` emits, as its SDP line, up
 * to and with the `null` that ends gathering.
 */
export async function gatherAll(pc: PeerConnection): Promise<(string | null)[]> {
  const seen: (string | null)[] = [];
  const done = new Promise<void>((resolve) =>
    pc.on('icecandidate', (c) => {
      seen.push(c ? c.candidate : null);
      if (!c) resolve();
    }),
  );
  await pc.enableDataChannels();
  await pc.setLocalDescription(await pc.createOffer());
  await done;
  return seen;
}
