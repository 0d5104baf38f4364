#!/usr/bin/env node
// Headless Chromium opens the local service's viewer page (the official JS SDK as the
// viewer) against a running `kvs-webrtc` command, inside the network namespace the test made
// (Chromium never uses loopback host candidates; the page reaches the master through the
// local coturn). Prints one JSON line with what the page saw.
//   node page-session.mjs master    kvs-webrtc master on a local service (started here)
//   node page-session.mjs demo      kvs-webrtc demo, at the URL it prints
//   node page-session.mjs connect   the same, up to the page's connection (no media needed)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../scripts/lib/chromium.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const { startLocalKvs, viewerPageUrl } = require('../../dist/local/index.js');
const mode = process.argv[2];
const DEADLINE_MS = 60_000;
const started = Date.now();
const left = () => DEADLINE_MS - (Date.now() - started);

const out = { mode };
const children = [];
let svc;
let dataDir;
let browser;

/** Runs the command; resolves once a stdout line matches `ready`, with the match. */
function command(args, env, ready) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stderr.on('data', (d) => (text += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${ready} from kvs-webrtc ${args[0]}:\n${text}`)),
      left(),
    );
    child.stdout.on('data', (d) => {
      text += d.toString();
      const m = ready.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => text });
      }
    });
    child.on('exit', (code) => reject(new Error(`kvs-webrtc ${args[0]} exited ${code}:\n${text}`)));
  });
}

async function openPage(url) {
  browser ??= await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS });
  // The page is served over the local service's TLS; its CA is not in Chromium's store.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push(m.text()));
  await page.goto(url);
  out.pageConsole = console_;
  return page;
}

const state = (page) =>
  page.evaluate(() => {
    const v = document.getElementById('video');
    return {
      ...globalThis.kvsViewer.state,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      log: document.getElementById('log').textContent,
    };
  });

async function until(page, done, what) {
  for (;;) {
    const s = await state(page);
    if (done(s)) return s;
    if (s.error) throw new Error(`the page failed: ${s.error}\n${s.log}`);
    if (left() < 2000) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

try {
  if (mode === 'demo') {
    const demo = await command(['demo', '--duration', '45'], process.env, /viewer page: (\S+)/);
    // The same element before any stream: what a blank picture measures.
    const url = demo.match[1];
    const blank = await openPage(url.slice(0, url.indexOf('#')));
    out.blankScreenshot = (await blank.locator('#video').screenshot()).toString('base64');
    await blank.close();
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    await page.goto(url);
    const first = await until(page, (s) => s.framesDecoded >= 25, '25 decoded frames');
    await sleep(2000);
    const second = await state(page);
    out.framesDecoded = [first.framesDecoded, second.framesDecoded];
    out.size = [second.videoWidth, second.videoHeight];
    out.pair = second.pair;
    out.screenshot = (await page.locator('#video').screenshot()).toString('base64');
    demo.child.kill('SIGINT');
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-page-'));
    svc = await startLocalKvs({ port: 0, dataDir, turn: true, log: () => undefined });
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: svc.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: svc.credentials.secretAccessKey,
    };
    const channel = 'page-test';
    const master = await command(
      ['master', channel, '--endpoint', svc.endpoint, '--ca-cert', svc.caCertPath, '--quiet'],
      env,
      /master on channel/,
    );
    const page = await openPage(
      viewerPageUrl(svc.endpoint, { channel, region: svc.region, ...svc.credentials }),
    );
    const connected = await until(
      page,
      (s) => s.connectionState === 'connected',
      'the page to connect',
    );
    out.connected = connected.connectionState;
    out.pair = connected.pair;
    if (mode === 'master') {
      const s = await until(
        page,
        (x) => x.framesDecoded >= 50 && x.videoWidth > 0,
        '50 decoded frames',
      );
      out.framesDecoded = [s.framesDecoded];
      out.size = [s.videoWidth, s.videoHeight];
      out.statsSize = [s.frameWidth, s.frameHeight];
    }
    await sleep(500);
    out.masterOutput = master.output();
  }
} catch (e) {
  out.error = String(e?.stack ?? e);
  process.exitCode = 1;
} finally {
  console.log(JSON.stringify(out));
  await browser?.close().catch(() => undefined);
  for (const c of children) c.kill('SIGKILL');
  await svc?.stop({ graceful: false });
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}
