import { afterEach, describe, expect, it } from 'vitest';
import {
  KvsError,
  PeerConnection,
  getStat,
  rtcPeerConnectionGetMetrics,
  type TransportStats,
} from '../../lib/index.js';
import { LOOPBACK, gatherAll, negotiate, trickle, waitForState } from '../helpers/peers.js';

const open: PeerConnection[] = [];
function pc(config = LOOPBACK): PeerConnection {
  const p = new PeerConnection(config);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

describe('native to native on loopback', () => {
  it('connects with DTLS 1.2 and SRTP keys, and reports it in stats', async () => {
    const offerer = pc();
    const answerer = pc();
    const trickleErrors = trickle(offerer, answerer);
    const states: string[] = [];
    offerer.on('connectionstatechange', (s) => states.push(s));
    await offerer.addTransceiver({ kind: 'video', direction: 'sendrecv' });
    await offerer.addTransceiver('audio');
    await offerer.enableDataChannels();
    await negotiate(offerer, answerer);
    await Promise.all([waitForState(offerer, 'connected'), waitForState(answerer, 'connected')]);
    expect(states).toEqual(['connecting', 'connected']);
    expect(trickleErrors).toEqual([]);

    const stats = await offerer.getStats();
    const transport = getStat(stats, 'transport-0', 'transport');
    expect(transport).toMatchObject({
      type: 'transport',
      dtlsState: 'connected',
      tlsVersion: 'DTLSv1.2',
      iceRole: 'controlling',
      dtlsRole: 'server',
      srtpCipher: 'SRTP_AEAD_AES_128_GCM', // IANA's name, as W3C stats use
    });
    const pair = getStat(stats, transport?.selectedCandidatePairId, 'candidate-pair');
    expect(pair).toMatchObject({ type: 'candidate-pair', state: 'succeeded', nominated: true });
    expect(Number(pair?.responsesReceived)).toBeGreaterThanOrEqual(1);
    expect(Number(pair?.bytesReceived)).toBeGreaterThan(0); // the DTLS handshake
    const local = stats.get(String(pair?.localCandidateId));
    expect(local).toMatchObject({ address: '127.0.0.1', candidateType: 'host', protocol: 'udp' });

    // The C SDK's accessor: the selected pair and its candidates.
    const [selected] = await rtcPeerConnectionGetMetrics(offerer, null, 'CANDIDATE_PAIR');
    expect(selected).toMatchObject({ id: pair?.id, type: 'candidate-pair', nominated: true });
    const [localCandidate] = await rtcPeerConnectionGetMetrics(offerer, null, 'LOCAL_CANDIDATE');
    expect(localCandidate).toMatchObject({ id: local?.id, address: '127.0.0.1' });
    // RTC_ALL is everything: the RTP and data-channel types too (test/metrics has their figures).
    const all = await rtcPeerConnectionGetMetrics(offerer, null, 'RTC_ALL');
    expect(all.length).toBeGreaterThanOrEqual(stats.size - 2); // a report may gain a stream since
    expect(new Set(all.map((s) => s.type))).toContain('outbound-rtp');

    const answererTransport = (await answerer.getStats()).get('transport-0');
    expect(answererTransport).toMatchObject({ iceRole: 'controlled', dtlsRole: 'client' });
  });

  it('connects the other way round, and with the answer following the offer', async () => {
    const a = pc();
    const b = pc();
    trickle(a, b);
    await b.addTransceiver({ kind: 'audio', codecs: ['PCMU'] });
    await a.addTransceiver({ kind: 'audio' });
    await negotiate(b, a);
    await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
    // The answer keeps the offer's single codec and its payload type.
    expect(a.localDescription?.sdp).toMatch(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 0\r$/m);
  });

  it('fails when the certificate does not match the fingerprint in the SDP', async () => {
    const offerer = pc();
    const answerer = pc();
    trickle(offerer, answerer);
    await offerer.enableDataChannels();
    await negotiate(offerer, answerer, (sdp) =>
      sdp.replace(
        /(a=fingerprint:sha-256 )([0-9A-F])/,
        (_m, p: string, c: string) => p + (c === 'A' ? 'B' : 'A'),
      ),
    );
    await waitForState(offerer, 'failed');
    expect(offerer.connectionState).toBe('failed');
  });

  it('connects over IPv6 host candidates', async () => {
    const a = pc({ interfaces: { only: ['::1'] } });
    const b = pc({ interfaces: { only: ['::1'] } });
    const errors = trickle(a, b);
    await a.enableDataChannels();
    await negotiate(a, b);
    await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
    const stats = await a.getStats();
    const pair = getStat(
      stats,
      getStat(stats, 'transport-0', 'transport')?.selectedCandidatePairId,
      'candidate-pair',
    );
    expect(stats.get(String(pair?.localCandidateId))).toMatchObject({
      address: '::1',
      candidateType: 'host',
    });
    expect(errors).toEqual([]);
  });

  it('emits the gathered candidates and then null', async () => {
    const p = pc();
    const seen = await gatherAll(p);
    expect(seen.at(-1)).toBeNull();
    // A UDP host candidate, and ICE-TCP's passive and active ones (RFC 6544: the active one
    // with the discard port 9), all on the one allowed address.
    expect(seen.slice(0, -1)).toEqual([
      expect.stringMatching(/^candidate:\d+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/),
      expect.stringMatching(/^candidate:\d+ 1 tcp \d+ 127\.0\.0\.1 \d+ typ host tcptype passive/),
      expect.stringMatching(/^candidate:\d+ 1 tcp \d+ 127\.0\.0\.1 9 typ host tcptype active/),
    ]);
  });

  it('skips unusable remote candidates with a reason, and closes cleanly', async () => {
    const a = pc();
    const b = pc();
    await a.enableDataChannels();
    await negotiate(a, b);
    const skipped = new Promise<[string, string]>((resolve) =>
      a.on('candidateskipped', (c, why) => resolve([c, why])),
    );
    await a.addIceCandidate(
      'candidate:1 1 udp 2122260223 4a1b2c3d-0000-4000-8000-000000000000.local 50000 typ host',
    );
    const [, why] = await skipped;
    expect(why).toMatch(/mDNS/);
    await a.close();
    expect(a.connectionState).toBe('closed');
    expect(a.signalingState).toBe('closed');
    await expect(a.createOffer()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});

describe('ICE restart', () => {
  async function transport(p: PeerConnection): Promise<Partial<TransportStats>> {
    return getStat(await p.getStats(), 'transport-0', 'transport') ?? {};
  }
  /** Polls until `check` holds: 200 x 50 ms at most. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('condition not met in 10 s');
  }

  it.each(['first offerer', 'first answerer'])(
    'restarted by the %s: new credentials on both sides, connected again',
    async (who) => {
      const a = pc();
      const b = pc();
      const errors = trickle(a, b);
      await a.enableDataChannels();
      await negotiate(a, b);
      await Promise.all([waitForState(a, 'connected'), waitForState(b, 'connected')]);
      const before = [
        (await transport(a)).iceLocalUsernameFragment,
        (await transport(b)).iceLocalUsernameFragment,
      ];

      const [restarter, other] = who === 'first offerer' ? [a, b] : [b, a];
      await restarter.restartIce();
      await negotiate(restarter, other);
      // The re-offer keeps the DTLS association: it states the restarter's role, no actpass.
      const role = (await transport(restarter)).dtlsRole;
      expect(restarter.localDescription?.sdp).toMatch(
        role === 'client' ? /a=setup:active/ : /a=setup:passive/,
      );
      expect(restarter.localDescription?.sdp).not.toMatch(/a=setup:actpass/);
      await eventually(async () => {
        const [ta, tb] = [await transport(a), await transport(b)];
        return (
          ta.iceState === 'connected' &&
          tb.iceState === 'connected' &&
          ta.iceLocalUsernameFragment !== before[0] &&
          tb.iceLocalUsernameFragment !== before[1]
        );
      });
      expect(a.connectionState).toBe('connected');
      expect(b.connectionState).toBe('connected');
      expect(errors).toEqual([]);
    },
  );
});

describe('bad input', () => {
  it('names the field and the limit', async () => {
    expect(() => new PeerConnection({ iceServers: [{ urls: 'http://x' }] })).toThrow(
      /iceServers\[0\]\.urls/,
    );
    expect(
      () => new PeerConnection({ iceServers: Array(22).fill({ urls: 'stun:127.0.0.1' }) }),
    ).toThrow(/at most 21/);
    expect(() => new PeerConnection({ iceServers: [{ urls: 'turn:127.0.0.1' }] })).toThrow(
      /username and credential/,
    );
    expect(() => new PeerConnection({ timeouts: { failed: 0 } })).toThrow(/timeouts\.failed/);
    expect(() => new PeerConnection({ iceTransportPolicy: 'none' as never })).toThrow(KvsError);
    expect(
      () =>
        new PeerConnection({
          iceServers: [{ urls: 'turn:turn.example:3478', username: 'u', credential: 'p' }],
        }),
    ).toThrow(/turn\.example needs DNS.*PeerConnection\.create/);
    const p = pc();
    await expect(p.addTransceiver({ kind: 'video', codecs: ['opus'] })).rejects.toThrow(
      /video codecs are H264, H265, VP8/,
    );
    const malformed = await p.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\nbogus\r\n' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(malformed).toMatchObject({ code: 'ERR_SDP_MALFORMED' });
    expect((malformed as Error).message).toMatch(/line 2/);
    await expect(
      p.setRemoteDescription({ type: 'offer', sdp: 'x'.repeat(25_001) }),
    ).rejects.toThrow(/limit is 25000/);
    await expect(p.createAnswer()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });

  it('setConfiguration checks iceServers as the constructor does, and changes nothing else', async () => {
    const p = pc();
    const code = { code: 'ERR_INVALID_ARGUMENT' };
    await expect(p.setConfiguration(null as never)).rejects.toMatchObject(code);
    await expect(p.setConfiguration({ iceServers: 'stun:x' as never })).rejects.toThrow(
      /iceServers must be an array/,
    );
    await expect(p.setConfiguration({ iceServers: [{ urls: 'http://x' }] })).rejects.toThrow(
      /iceServers\[0\]\.urls/,
    );
    await expect(
      p.setConfiguration({ iceServers: Array(22).fill({ urls: 'stun:127.0.0.1' }) }),
    ).rejects.toThrow(/at most 21/);
    await expect(p.setConfiguration({ iceServers: [{ urls: 'turn:127.0.0.1' }] })).rejects.toThrow(
      /iceServers\[0\] is a TURN server and needs username and credential/,
    );
    await expect(p.setConfiguration({ iceTransportPolicy: 'relay' } as never)).rejects.toThrow(
      /iceTransportPolicy cannot change/,
    );
    // Well formed: taken (for the next gathering).
    await p.setConfiguration({
      iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }],
    });
    await p.setConfiguration({ iceServers: [] });
    await p.close();
    await expect(p.setConfiguration({ iceServers: [] })).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
  });
});
