import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, canMakeNetns, runInNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// ICE completeness against headless Chromium, each run in a private network namespace of its
// own (test/helpers/netns.ts): nothing it sends, multicast DNS included, reaches a real
// interface. No STUN or TURN server anywhere: host candidates only.
const session = path.join(ROOT, 'test', 'interop', 'chromium-session.mjs');

interface Described {
  type: string;
  address: string;
  port: number;
  protocol: string;
}
interface Outcome {
  error?: string;
  ours?: Record<string, string | number | boolean>;
  ourSelected?: { local: Described; remote: Described };
  theirs?: {
    transport?: Record<string, string | number>;
    selected?: { local: Described; remote: Described };
  };
  gathered?: string[];
  announced?: string[];
  skipped?: { candidate: string; why: string }[];
}

type Mode = 'kvs-offers' | 'chromium-offers';

function run(mode: Mode, flags: string[], setup: string[] = []): Outcome {
  const r = runInNetns([session, mode, NETNS_ADDRESS, ...flags], 120_000, setup);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, r.stderr).toMatch(/^\{/);
  return JSON.parse(line) as Outcome;
}

// Inside the namespace only: every UDP datagram in or out is dropped.
const BLOCK_UDP = ['iptables -A INPUT -p udp -j DROP', 'iptables -A OUTPUT -p udp -j DROP'];

describe.skipIf(!canMakeNetns())('Chromium with mDNS host candidates (its default)', () => {
  it.each<Mode>(['chromium-offers', 'kvs-offers'])(
    '%s: resolves the .local names and connects over a host pair',
    (mode) => {
      const out = run(mode, ['mdns']);
      expect(out.error).toBeUndefined();
      // Chromium hid its address: every host candidate it gave us is a .local name.
      const hosts = (out.gathered ?? []).filter((c) => / typ host/.test(c));
      expect(hosts.length).toBeGreaterThan(0);
      for (const c of hosts) expect(c.split(' ')[4]).toMatch(/^[0-9a-f-]+\.local$/);
      expect(out.skipped).toEqual([]);
      expect(out.ours).toMatchObject({ iceState: 'connected', dtlsState: 'connected' });
      // The pair is the resolved host candidate, not a peer-reflexive stand-in for it.
      expect(out.ourSelected?.local).toMatchObject({ type: 'host', address: NETNS_ADDRESS });
      expect(out.ourSelected?.remote).toMatchObject({
        type: 'host',
        address: NETNS_ADDRESS,
        protocol: 'udp',
      });
      expect(out.theirs?.selected?.remote).toMatchObject({ type: 'host', address: NETNS_ADDRESS });
    },
    150_000,
  );
});

describe.skipIf(!canMakeNetns())('both sides hiding host addresses behind mDNS names', () => {
  it.each<Mode>(['chromium-offers', 'kvs-offers'])(
    '%s: Chromium resolves our names through our responder, and we resolve its',
    (mode) => {
      const out = run(mode, ['mdns', 'ours-mdns']);
      expect(out.error).toBeUndefined();
      // What we signalled hides our address: host candidates by .local name only.
      const ours = (out.announced ?? []).filter((c) => / typ host/.test(c));
      expect(ours.length).toBeGreaterThan(0);
      for (const c of ours) expect(c.split(' ')[4]).toMatch(/^[0-9a-f-]+\.local$/);
      expect(out.announced?.join('\n')).not.toContain(NETNS_ADDRESS);
      expect(out.skipped).toEqual([]);
      expect(out.ourSelected?.remote).toMatchObject({ type: 'host', address: NETNS_ADDRESS });
      // Chromium's view: our candidate is the signalled host one (it resolved the name), not
      // a peer-reflexive stand-in learned from our checks.
      expect(out.theirs?.selected?.remote).toMatchObject({ type: 'host', protocol: 'udp' });
    },
    150_000,
  );
});

describe.skipIf(!canMakeNetns())('Chromium with UDP blocked (ICE-TCP, RFC 6544)', () => {
  it.each<Mode>(['chromium-offers', 'kvs-offers'])(
    '%s: connects over our passive TCP host candidate; DTLS and SRTP keys over RFC 4571',
    (mode) => {
      const out = run(mode, [], BLOCK_UDP);
      expect(out.error).toBeUndefined();
      expect(out.ours).toMatchObject({ iceState: 'connected', dtlsState: 'connected' });
      expect(out.ours?.srtpCipher).toBeDefined();
      expect(out.theirs?.transport?.srtpCipher).toBe(out.ours?.srtpCipher);
      expect(out.ourSelected?.local).toMatchObject({
        type: 'host',
        address: NETNS_ADDRESS,
        protocol: 'tcp',
      });
      // Chromium connects from its active candidate, whose signalled port (9) is no address:
      // the connection's source is learned as peer-reflexive (RFC 6544 §7.2).
      expect(out.ourSelected?.remote).toMatchObject({ address: NETNS_ADDRESS, protocol: 'tcp' });
      expect(out.theirs?.selected?.remote).toMatchObject({
        type: 'host',
        address: NETNS_ADDRESS,
        protocol: 'tcp',
        port: out.ourSelected?.local.port,
      });
    },
    150_000,
  );
});
