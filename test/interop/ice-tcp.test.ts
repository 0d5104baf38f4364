import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, canMakeNetns, runInNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// kvs-webrtc to kvs-webrtc with UDP dropped in a private network namespace: ICE-TCP alone.
const script = path.join(ROOT, 'test', 'interop', 'tcp-only.mjs');

interface Side {
  transport?: Record<string, string | number>;
  local?: { type: string; address: string; protocol: string };
  remote?: { type: string; address: string; protocol: string };
}

describe.skipIf(!canMakeNetns())('ICE-TCP between two kvs-webrtc peers', () => {
  it('connects over TCP host candidates when UDP is blocked; DTLS-SRTP over RFC 4571', () => {
    const r = runInNetns([script, NETNS_ADDRESS], 90_000, [
      'iptables -A INPUT -p udp -j DROP',
      'iptables -A OUTPUT -p udp -j DROP',
    ]);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    const out = JSON.parse(line) as { error?: string; a?: Side; b?: Side };
    expect(out.error).toBeUndefined();
    for (const side of [out.a, out.b]) {
      expect(side?.transport).toMatchObject({ iceState: 'connected', dtlsState: 'connected' });
      expect(side?.transport?.srtpCipher).toBeDefined();
      expect(side?.local).toMatchObject({ address: NETNS_ADDRESS, protocol: 'tcp' });
      expect(side?.remote).toMatchObject({ address: NETNS_ADDRESS, protocol: 'tcp' });
    }
    // One side connected out from its active candidate to the other's signalled passive one
    // (a host candidate to it); the other learned the connection's source as peer-reflexive.
    expect(out.a?.local?.type).toBe('host');
    expect(out.b?.local?.type).toBe('host');
    expect([out.a?.remote?.type, out.b?.remote?.type].sort()).toEqual(['host', 'prflx']);
  }, 120_000);

  it('prefers UDP when it works: the same peers without the block pick a UDP pair', () => {
    const r = runInNetns([script, NETNS_ADDRESS], 90_000);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    const out = JSON.parse(line) as { error?: string; a?: Side; b?: Side };
    expect(out.error).toBeUndefined();
    for (const side of [out.a, out.b]) {
      expect(side?.local).toMatchObject({ type: 'host', protocol: 'udp' });
      expect(side?.remote).toMatchObject({ type: 'host', protocol: 'udp' });
    }
  }, 120_000);
});
