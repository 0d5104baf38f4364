#!/usr/bin/env node
// Data channels between kvs-webrtc and headless Chromium (a plain RTCPeerConnection in a
// page, driven by Playwright), both in the private network namespace that
// test/interop/datachannel-chromium.test.ts makes: Chromium's host candidates are on the
// namespace's veth address, and nothing leaves it. One browser runs every scenario, each on a
// fresh pair of peer connections; the script prints one JSON line with what each side sent
// and received, as lists of message keys (type and SHA-256 of the bytes), for the test to
// compare. It checks nothing itself.
//   node datachannel-chromium-session.mjs <address>
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { clearTimeout, setTimeout } from 'node:timers';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';

const require = createRequire(import.meta.url);
const { PeerConnection } = require('../../dist/index.js');
const [address] = process.argv.slice(2);
const DEADLINE_MS = 150_000;
const WAIT_MS = 60_000;

// A message's key: its type, its length and two 32-bit FNV-1a hashes of its bytes (different
// offset bases). The page computes the same synchronously (crypto.subtle needs a secure
// context, which the blank page is not), so keys list in arrival order.
function fnv(bytes, basis) {
  let h = basis;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}
const key = (m) => {
  const bytes = typeof m === 'string' ? Buffer.from(m, 'utf8') : new Uint8Array(m);
  const type = typeof m === 'string' ? 'text' : 'binary';
  return `${type}:${bytes.length}:${fnv(bytes, 0x811c9dc5)}${fnv(bytes, 0x01000193)}`;
};

function samples(tag) {
  return [
    `${tag}: hello`,
    `${tag}: ünïcødé ✓ 日本語`,
    Buffer.from([0, 1, 2, 255]),
    crypto.randomBytes(3000),
    `${tag}: ${'x'.repeat(20_000)}`,
    crypto.randomBytes(60_000),
  ];
}
// For page.evaluate: text as is, bytes as base64.
const wire = (m) =>
  typeof m === 'string' ? { text: m } : { base64: Buffer.from(m).toString('base64') };

function until(check, what, ms = WAIT_MS, state = async () => '') {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const poll = async () => {
      try {
        if (await check()) return resolve();
      } catch (err) {
        return reject(err);
      }
      if (Date.now() > deadline) {
        return reject(new Error(`timed out waiting for ${what} ${await state().catch(String)}`));
      }
      setTimeout(poll, 25);
    };
    void poll();
  });
}

const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS });
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, DEADLINE_MS);
const ourPeers = [];

try {
  const page = await browser.newPage();
  // Candidates from Chromium go to the kvs peer of the same name, held until it has a
  // remote description.
  const oursByName = new Map();
  await page.exposeFunction('toNode', (name, c) => {
    const entry = oursByName.get(name);
    if (entry.pc.remoteDescription) return entry.pc.addIceCandidate(c);
    entry.held.push(c);
    return undefined;
  });
  await page.evaluate(() => {
    // Runs in the page. h.got[name] lists the keys of what channel `name` received, in order.
    const fnv = (bytes, basis) => {
      let x = basis;
      for (let i = 0; i < bytes.length; i++) x = Math.imul(x ^ bytes[i], 16777619) >>> 0;
      return x.toString(16).padStart(8, '0');
    };
    const h = {
      pcs: {},
      channels: {},
      got: {},
      closed: {},
      errors: [],
      key(data) {
        const text = typeof data === 'string';
        const bytes = text ? new TextEncoder().encode(data) : new Uint8Array(data);
        return `${text ? 'text' : 'binary'}:${bytes.length}:${fnv(bytes, 0x811c9dc5)}${fnv(bytes, 0x01000193)}`;
      },
      track(pcName, dc) {
        const name = `${pcName}/${dc.label}`;
        dc.binaryType = 'arraybuffer';
        h.channels[name] = dc;
        h.got[name] = [];
        dc.onmessage = (e) => {
          h.got[name].push(h.key(e.data));
          if (dc.echo) dc.send(e.data);
        };
        dc.onclose = () => {
          h.closed[name] = true;
        };
        dc.onerror = (e) => h.errors.push(`${name}: ${e.error?.message ?? 'error'}`);
        return name;
      },
      make(pcName) {
        const pc = new RTCPeerConnection({ iceServers: [] });
        h.pcs[pcName] = pc;
        pc.onicecandidate = (e) => e.candidate && globalThis.toNode(pcName, e.candidate.candidate);
        pc.ondatachannel = (e) => h.track(pcName, e.channel);
        pc.connected = new Promise((resolve, reject) => {
          pc.onconnectionstatechange = () =>
            pc.connectionState === 'connected'
              ? resolve()
              : pc.connectionState === 'failed'
                ? reject(new Error('chromium failed'))
                : undefined;
        });
        pc.held = [];
        return pc;
      },
      open(pcName, label, init) {
        return h.track(pcName, h.pcs[pcName].createDataChannel(label, init));
      },
      opened(name) {
        const dc = h.channels[name];
        if (dc.readyState === 'open') return true;
        return new Promise((resolve) => dc.addEventListener('open', () => resolve(true)));
      },
      send(name, items) {
        const dc = h.channels[name];
        for (const m of items) {
          if (m.text !== undefined) dc.send(m.text);
          else dc.send(Uint8Array.from(atob(m.base64), (ch) => ch.charCodeAt(0)));
        }
      },
    };
    globalThis.h = h;
  });

  const toChromium = (name, c) =>
    page.evaluate(
      ([n, cand]) => {
        const pc = globalThis.h.pcs[n];
        if (pc.remoteDescription) return pc.addIceCandidate({ candidate: cand, sdpMid: '0' });
        pc.held.push(cand);
        return undefined;
      },
      [name, c],
    );
  const flushChromium = (name) =>
    page.evaluate(
      (n) =>
        Promise.all(
          globalThis.h.pcs[n].held
            .splice(0)
            .map((c) => globalThis.h.pcs[n].addIceCandidate({ candidate: c, sdpMid: '0' })),
        ),
      name,
    );

  /** A connected pair named `name`; `prepare(ours)` and `preparePage` run before the offer. */
  async function connect(name, who, { prepare = () => {}, preparePage = () => {} } = {}) {
    const ours = new PeerConnection({ interfaces: { only: [address] } });
    ourPeers.push(ours);
    const entry = { pc: ours, held: [], announced: [] };
    oursByName.set(name, entry);
    ours.on('datachannel', (c) => entry.announced.push(c));
    const connected = new Promise((resolve, reject) =>
      ours.on('connectionstatechange', (s) =>
        s === 'connected' ? resolve() : s === 'failed' ? reject(new Error('kvs-webrtc failed')) : 0,
      ),
    );
    ours.on('icecandidate', (c) => c && void toChromium(name, c.candidate));
    await page.evaluate((n) => void globalThis.h.make(n), name);
    await prepare(ours);
    await preparePage();
    if (who === 'kvs offers') {
      const offer = await ours.createOffer();
      await ours.setLocalDescription(offer);
      const answer = await page.evaluate(
        async ([n, sdp]) => {
          const pc = globalThis.h.pcs[n];
          await pc.setRemoteDescription({ type: 'offer', sdp });
          const a = await pc.createAnswer();
          await pc.setLocalDescription(a);
          return a.sdp;
        },
        [name, offer.sdp],
      );
      await flushChromium(name);
      await ours.setRemoteDescription({ type: 'answer', sdp: answer });
      entry.theirSdp = answer;
    } else {
      const offer = await page.evaluate(async (n) => {
        const pc = globalThis.h.pcs[n];
        const o = await pc.createOffer();
        await pc.setLocalDescription(o);
        return o.sdp;
      }, name);
      entry.theirSdp = offer;
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      const answer = await ours.createAnswer();
      await ours.setLocalDescription(answer);
      await page.evaluate(
        ([n, sdp]) => globalThis.h.pcs[n].setRemoteDescription({ type: 'answer', sdp }),
        [name, answer.sdp],
      );
      await flushChromium(name);
    }
    for (const c of entry.held.splice(0)) await ours.addIceCandidate(c);
    await Promise.all([connected, page.evaluate((n) => globalThis.h.pcs[n].connected, name)]);
    return entry;
  }

  const ourOpen = (c) =>
    c.readyState === 'open' ? Promise.resolve() : new Promise((r) => c.once('open', r));
  const ourChannel = async (entry, label) => {
    await until(() => entry.announced.some((c) => c.label === label), `our ${label}`);
    return entry.announced.find((c) => c.label === label);
  };

  /** Sends samples each way on (our channel, page channel name); returns the four key lists. */
  async function exchange(ourEnd, pageName, tag) {
    const toChromium = samples(`kvs->chromium ${tag}`);
    const toKvs = samples(`chromium->kvs ${tag}`);
    const atOurs = [];
    ourEnd.on('message', (m) => atOurs.push(key(m)));
    for (const m of toChromium) ourEnd.send(m);
    await page.evaluate(([n, items]) => globalThis.h.send(n, items), [pageName, toKvs.map(wire)]);
    await until(
      async () =>
        atOurs.length >= toKvs.length &&
        (await page.evaluate((n) => globalThis.h.got[n].length, pageName)) >= toChromium.length,
      `messages on ${tag}`,
      WAIT_MS,
      async () =>
        `(kvs got ${atOurs.length} of ${toKvs.length}, chromium got ` +
        `${await page.evaluate((n) => globalThis.h.got[n].length, pageName)} of ${toChromium.length}; ` +
        `our channel ${ourEnd.readyState}, buffered ${ourEnd.bufferedAmount}; chromium's ` +
        `${await page.evaluate((n) => `${globalThis.h.channels[n].readyState}, errors ${globalThis.h.errors.join('; ')}`, pageName)})`,
    );
    return {
      sentToChromium: toChromium.map(key),
      receivedByChromium: await page.evaluate((n) => globalThis.h.got[n], pageName),
      sentToKvs: toKvs.map(key),
      receivedByKvs: atOurs,
      ourId: ourEnd.id,
      theirId: await page.evaluate((n) => globalThis.h.channels[n].id, pageName),
      ourOrdered: ourEnd.ordered,
      theirOrdered: await page.evaluate((n) => globalThis.h.channels[n].ordered, pageName),
      ourProtocol: ourEnd.protocol,
      theirProtocol: await page.evaluate((n) => globalThis.h.channels[n].protocol, pageName),
    };
  }

  const out = { scenarios: {} };
  const channelsOf = async (entry, pcName, opener, late) => {
    // Channels "ordered" and "unordered": ours made by `opener` (before the offer or, when
    // `late`, once connected), the other side's found by label.
    if (opener === 'kvs') {
      if (late) {
        entry.mine = [
          entry.pc.createDataChannel('ordered', { protocol: 'x-ordered' }),
          entry.pc.createDataChannel('unordered', { ordered: false }),
        ];
      }
      await Promise.all(entry.mine.map(ourOpen));
      await until(
        () => page.evaluate((n) => !!globalThis.h.got[`${n}/unordered`], pcName),
        'chromium datachannel events',
      );
      return entry.mine.map((c) => [c, `${pcName}/${c.label}`]);
    }
    if (late) {
      await page.evaluate((n) => {
        globalThis.h.open(n, 'ordered', { protocol: 'x-ordered' });
        globalThis.h.open(n, 'unordered', { ordered: false });
      }, pcName);
    }
    const pairs = [];
    for (const label of ['ordered', 'unordered']) {
      await page.evaluate((n) => globalThis.h.opened(n), `${pcName}/${label}`);
      pairs.push([await ourChannel(entry, label), `${pcName}/${label}`]);
    }
    return pairs;
  };

  for (const offerer of ['kvs', 'chromium']) {
    for (const opener of ['kvs', 'chromium']) {
      const name = `${offerer}-offers-${opener}-opens`;
      const early = offerer === opener;
      let mine = [];
      const entry = await connect(name, offerer === 'kvs' ? 'kvs offers' : 'chromium offers', {
        prepare: async (ours) => {
          if (early && opener === 'kvs') {
            mine = [
              ours.createDataChannel('ordered', { protocol: 'x-ordered' }),
              ours.createDataChannel('unordered', { ordered: false }),
            ];
          } else if (offerer === 'kvs') {
            await ours.enableDataChannels();
          }
        },
        preparePage: () =>
          page.evaluate(
            ([n, openHere, bootstrap]) => {
              if (openHere) {
                globalThis.h.open(n, 'ordered', { protocol: 'x-ordered' });
                globalThis.h.open(n, 'unordered', { ordered: false });
              } else if (bootstrap) {
                // Chromium offers an application m-line only with a channel.
                globalThis.h.open(n, 'bootstrap');
              }
            },
            [name, early && opener === 'chromium', offerer === 'chromium' && opener === 'kvs'],
          ),
      });
      entry.mine = mine;
      const pairs = await channelsOf(entry, name, opener, !early);
      out.scenarios[name] = {
        ordered: await exchange(pairs[0][0], pairs[0][1], `${name} ordered`),
        unordered: await exchange(pairs[1][0], pairs[1][1], `${name} unordered`),
      };
    }
  }

  // Negotiated channels: made on both sides with the same ids, nothing announced.
  {
    const name = 'negotiated';
    let mine = [];
    const entry = await connect(name, 'kvs offers', {
      prepare: (ours) => {
        mine = [
          ours.createDataChannel('neg-ordered', { negotiated: true, id: 3 }),
          ours.createDataChannel('neg-unordered', { negotiated: true, id: 8, ordered: false }),
        ];
      },
      preparePage: () =>
        page.evaluate((n) => {
          globalThis.h.open(n, 'neg-ordered', { negotiated: true, id: 3 });
          globalThis.h.open(n, 'neg-unordered', { negotiated: true, id: 8, ordered: false });
        }, name),
    });
    await Promise.all(mine.map(ourOpen));
    for (const c of mine) await page.evaluate((n) => globalThis.h.opened(n), `${name}/${c.label}`);
    out.scenarios[name] = {
      ordered: await exchange(mine[0], `${name}/neg-ordered`, 'negotiated ordered'),
      unordered: await exchange(mine[1], `${name}/neg-unordered`, 'negotiated unordered'),
      announcedOnOurs: entry.announced.length,
    };
  }

  // Messages at Chromium's advertised maximum, each way (Chromium echoes what it gets), and
  // one byte more refused by our send.
  {
    const name = 'max-size';
    let channel;
    const entry = await connect(name, 'kvs offers', {
      prepare: (ours) => {
        channel = ours.createDataChannel('big');
      },
    });
    await ourOpen(channel);
    await until(() => page.evaluate((n) => !!globalThis.h.channels[n], `${name}/big`), 'big');
    const advertised = Number(/^a=max-message-size:(\d+)/m.exec(entry.theirSdp)?.[1] ?? NaN);
    const atMax = crypto.randomBytes(channel.maxMessageSize);
    const atMaxText = 'y'.repeat(channel.maxMessageSize);
    const echoed = [];
    channel.on('message', (m) => echoed.push(key(m)));
    await page.evaluate((n) => {
      globalThis.h.channels[n].echo = true;
    }, `${name}/big`);
    channel.send(atMax);
    channel.send(atMaxText);
    await until(() => echoed.length >= 2, 'the echoes');
    let refusal = null;
    try {
      channel.send(Buffer.alloc(channel.maxMessageSize + 1));
    } catch (err) {
      refusal = { code: err.code, message: err.message };
    }
    // What Chromium's RTCSctpTransport.maxMessageSize says (what it lets its app send us),
    // for the record.
    const theirMax = await page.evaluate(
      (n) => globalThis.h.pcs[n].sctp?.maxMessageSize ?? null,
      name,
    );
    out.scenarios[name] = {
      advertised,
      ourMaxMessageSize: channel.maxMessageSize,
      theirMaxMessageSize: theirMax,
      sent: [key(atMax), key(atMaxText)],
      receivedByChromium: await page.evaluate((n) => globalThis.h.got[n], `${name}/big`),
      echoed,
      refusal,
      stillOpen: channel.readyState,
      pageErrors: await page.evaluate(() => globalThis.h.errors),
    };
  }

  console.log(JSON.stringify(out));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await Promise.all(ourPeers.map((p) => p.close()));
  await browser.close();
}
