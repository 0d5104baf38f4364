import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// Headless Chromium (Debian's) with a plain RTCPeerConnection, against kvs-webrtc, both in a
// private network namespace: Chromium never uses loopback host candidates, so the namespace's
// own veth address carries the connection and nothing leaves it.
const session = path.join(ROOT, 'test', 'interop', 'chromium-session.mjs');

interface Outcome {
  error?: string;
  ours?: Record<string, string | number | boolean>;
  theirs?: {
    transport?: Record<string, string | number>;
    local?: string[];
    remote?: string[];
  };
}

function run(mode: 'kvs-offers' | 'chromium-offers'): Outcome {
  const r = runInNetns([session, mode, NETNS_ADDRESS], 90_000);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  return JSON.parse(line) as Outcome;
}

describe.skipIf(skipWithoutNetns('interop with Chromium'))('interop with Chromium', () => {
  it('connects with kvs-webrtc offering; DTLS 1.2 and SRTP keys on both sides', () => {
    const out = run('kvs-offers');
    expect(out.error).toBeUndefined();
    expect(out.ours).toMatchObject({
      dtlsState: 'connected',
      tlsVersion: 'DTLSv1.2',
      dtlsRole: 'server',
    });
    expect(out.ours?.srtpCipher).toBeDefined();
    // Chromium reports the record-layer version: FEFD is DTLS 1.2.
    expect(out.theirs?.transport).toMatchObject({
      dtlsState: 'connected',
      tlsVersion: 'FEFD',
      dtlsRole: 'client',
    });
    // Both ends name the same SRTP protection profile, by IANA's registry name (W3C stats).
    expect(out.ours?.srtpCipher).toMatch(/^SRTP_(AES128_CM_HMAC_SHA1_(80|32)|AEAD_AES_128_GCM)$/);
    expect(out.theirs?.transport?.srtpCipher).toBe(out.ours?.srtpCipher);
    // Chromium learned our namespace address only (UDP and ICE-TCP candidates both have it).
    expect(new Set(out.theirs?.remote)).toEqual(new Set([NETNS_ADDRESS]));
  }, 120_000);

  it('connects with Chromium offering', () => {
    const out = run('chromium-offers');
    expect(out.error).toBeUndefined();
    expect(out.ours).toMatchObject({
      dtlsState: 'connected',
      tlsVersion: 'DTLSv1.2',
      dtlsRole: 'client',
    });
    expect(out.theirs?.transport).toMatchObject({
      dtlsState: 'connected',
      tlsVersion: 'FEFD',
      dtlsRole: 'server',
    });
    expect(out.theirs?.transport?.srtpCipher).toBe(out.ours?.srtpCipher);
  }, 120_000);
});
