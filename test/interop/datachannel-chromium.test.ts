// Data channels between kvs-webrtc and headless Chromium (Debian's, libwebrtc's dcSCTP), both
// in a private network namespace (see chromium.test.ts: Chromium gathers no loopback, so its
// host candidates are on the namespace's veth address). The session script runs every
// scenario in one browser and reports what each side sent and received; the checks are here.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, runInNetns, skipWithoutNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

const session = path.join(ROOT, 'test', 'interop', 'datachannel-chromium-session.mjs');

interface Exchange {
  sentToChromium: string[];
  receivedByChromium: string[];
  sentToKvs: string[];
  receivedByKvs: string[];
  ourId: number;
  theirId: number;
  ourOrdered: boolean;
  theirOrdered: boolean;
  ourProtocol: string;
  theirProtocol: string;
}
interface Outcome {
  error?: string;
  scenarios: Record<
    string,
    { ordered: Exchange; unordered: Exchange; announcedOnOurs?: number }
  > & {
    'max-size': {
      advertised: number;
      ourMaxMessageSize: number;
      theirMaxMessageSize: number | null;
      sent: string[];
      receivedByChromium: string[];
      echoed: string[];
      refusal: { code: string; message: string } | null;
      stillOpen: string;
      pageErrors: string[];
    };
  };
}

let out: Outcome;

const sorted = (keys: string[]) => [...keys].sort();

/** Both directions of one channel: everything arrived, in order when ordered. */
function expectExchanged(x: Exchange, ordered: boolean) {
  expect(x.ourOrdered).toBe(ordered);
  expect(x.theirOrdered).toBe(ordered);
  expect(x.ourId).toBe(x.theirId);
  if (ordered) {
    expect(x.receivedByChromium).toEqual(x.sentToChromium);
    expect(x.receivedByKvs).toEqual(x.sentToKvs);
  } else {
    expect(sorted(x.receivedByChromium)).toEqual(sorted(x.sentToChromium));
    expect(sorted(x.receivedByKvs)).toEqual(sorted(x.sentToKvs));
  }
}

describe.skipIf(skipWithoutNetns('data channels with Chromium'))(
  'data channels with Chromium',
  () => {
    beforeAll(() => {
      const r = runInNetns([session, NETNS_ADDRESS], 200_000);
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (!line.startsWith('{')) {
        throw new Error(`session printed no result (status ${r.status}): ${r.stderr.slice(-2000)}`);
      }
      out = JSON.parse(line) as Outcome;
      if (out.error !== undefined) throw new Error(`session failed: ${out.error}`);
    }, 240_000);

    for (const offerer of ['kvs', 'chromium']) {
      for (const opener of ['kvs', 'chromium']) {
        it(`${offerer} offers, ${opener} opens: ordered and unordered, text and binary, both ways`, () => {
          const s = out.scenarios[`${offerer}-offers-${opener}-opens`];
          expect(s).toBeDefined();
          if (!s) return;
          expectExchanged(s.ordered, true);
          expectExchanged(s.unordered, false);
          // The subprotocol crossed in DCEP, from whichever side opened.
          expect(s.ordered.ourProtocol).toBe('x-ordered');
          expect(s.ordered.theirProtocol).toBe('x-ordered');
        });
      }
    }

    it('negotiated channels carry messages both ways with the agreed ids, and nothing is announced', () => {
      const s = out.scenarios['negotiated'];
      expect(s).toBeDefined();
      if (!s) return;
      expectExchanged(s.ordered, true);
      expectExchanged(s.unordered, false);
      expect(s.ordered.ourId).toBe(3);
      expect(s.unordered.ourId).toBe(8);
      expect(s.announcedOnOurs).toBe(0);
    });

    it("messages of Chromium's advertised max-message-size round-trip; one byte more is refused naming both sizes", () => {
      const s = out.scenarios['max-size'];
      // Our maximum is what Chromium's answer advertised (RFC 8841).
      expect(s.advertised).toBeGreaterThan(65_536);
      expect(s.ourMaxMessageSize).toBe(s.advertised);
      // A binary and a text message of exactly that size reached Chromium and came back intact.
      expect(s.receivedByChromium).toEqual(s.sent);
      expect(s.echoed).toEqual(s.sent);
      expect(s.refusal?.code).toBe('ERR_DATACHANNEL_MESSAGE_TOO_LARGE');
      expect(s.refusal?.message).toContain(`${s.advertised + 1} bytes`);
      expect(s.refusal?.message).toContain(`max-message-size of ${s.advertised} bytes`);
      // The refusal is ours alone: the channel stays open and nothing went wrong in the page.
      expect(s.stillOpen).toBe('open');
      expect(s.pageErrors).toEqual([]);
    });
  },
);
