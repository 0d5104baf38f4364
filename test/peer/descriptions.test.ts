import { describe, expect, it } from 'vitest';
import { PeerConnection } from '../../lib/index.js';
import { LOOPBACK, negotiate } from '../helpers/peers.js';

// W3C order: when signalingstatechange fires, the description that changed the state is
// already visible. A signaling layer that holds remote candidates until there is a remote
// description flushes them from that event (as trickle() in test/helpers/peers.ts does); when
// the description showed up only after the event, a candidate held meanwhile was never added,
// and the relay-only tests failed under load (the offerer never learned the answerer's relay).
describe('descriptions and signalingstatechange', () => {
  it('a signalingstatechange handler sees the description that caused it', async () => {
    const a = new PeerConnection(LOOPBACK);
    const b = new PeerConnection(LOOPBACK);
    try {
      const seen: string[] = [];
      const record = (name: string, pc: PeerConnection) =>
        pc.on('signalingstatechange', (s) =>
          seen.push(
            `${name} ${s} local=${pc.localDescription?.type ?? 'none'} ` +
              `remote=${pc.remoteDescription?.type ?? 'none'}`,
          ),
        );
      record('a', a);
      record('b', b);
      await a.enableDataChannels();
      await negotiate(a, b);
      expect(seen).toEqual([
        'a have-local-offer local=offer remote=none',
        'b have-remote-offer local=none remote=offer',
        'b stable local=answer remote=offer',
        'a stable local=offer remote=answer',
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a description the native side refuses is never shown', async () => {
    const a = new PeerConnection(LOOPBACK);
    try {
      const seen: (string | undefined)[] = [];
      a.on('signalingstatechange', () => seen.push(a.remoteDescription?.type));
      await expect(
        a.setRemoteDescription({ type: 'answer', sdp: 'v=0\r\n' }), // no offer: wrong state
      ).rejects.toThrow();
      expect(a.remoteDescription).toBeNull();
      expect(seen).toEqual([]);
    } finally {
      await a.close();
    }
  });
});
