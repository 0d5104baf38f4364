/**
 * The demo, end to end on this machine with no AWS account: the embedded local KVS service
 * (with coturn when it is installed), a Master streaming the sample media (H.264 640x480 at
 * 25 fps and Opus, looping in real time) and N native Viewers; a status line once a second;
 * a summary at the end (time to first frame, frames and bytes, loss, the selected pair). It
 * prints the URL of the viewer web page, which plays the same stream in a browser.
 *
 * This module is the one place outside lib/local/ that starts the local service (the CLI
 * loads it on demand; a device app never does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvsError } from './errors.js';
import { startLocalKvs, type LocalKvs } from './local/index.js';
import { viewerPageUrl } from './local/viewer-page.js';
import { LoopingMediaSource, sampleTracks } from './media/looping-source.js';
import { selfTest } from './self-test.js';
import { Master } from './session/master.js';
import { describeCandidate, type LinkMetrics } from './session/metrics.js';
import { LOOPBACK_ONLY, type SessionOptions } from './session/options.js';
import { Viewer } from './session/viewer.js';
import { versions } from './versions.js';

export interface EmbeddedService {
  kvs: LocalKvs;
  /** Options that point a Master or Viewer at it. */
  session: Pick<SessionOptions, 'region' | 'credentials' | 'endpoint' | 'caCertPath'>;
  pageUrl(channel: string, relay?: boolean): string;
  stop(): Promise<void>;
}

/**
 * The local service on a temporary data directory, for the demo and `smoke --local`. With
 * `turn: 'required'`, a missing coturn is an ERR_CLI_SETUP error that says how to install it.
 */
export async function startEmbeddedService(
  options: { turn?: boolean | 'required'; viewers?: number; log?: (line: string) => void } = {},
): Promise<EmbeddedService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-webrtc-demo-'));
  const viewers = Math.max(10, options.viewers ?? 1);
  let kvs: LocalKvs;
  try {
    kvs = await startLocalKvs({
      port: 0,
      dataDir,
      turn: options.turn !== false,
      // One machine plays every viewer at once: the per-channel rates (3 connects, 5
      // control-plane and 5 data-plane calls per second on AWS) are raised to match, or the
      // viewers would wait out throttling back-offs.
      limits: {
        maxViewers: viewers + 1,
        connectTpsPerChannel: Math.max(3, viewers + 2),
        controlPlaneChannelTps: Math.max(5, 2 * viewers + 5),
        dataPlaneTpsPerChannel: Math.max(5, 2 * viewers + 5),
      },
      log: options.log ?? (() => undefined),
    });
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const stop = async (): Promise<void> => {
    await kvs.stop({ graceful: false });
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  if (options.turn === 'required' && !kvs.turn) {
    await stop();
    throw new KvsError(
      'ERR_CLI_SETUP',
      `TURN was asked for, but ${kvs.turnUnavailableReason ?? 'coturn is not running'} ` +
        '(as root: apt-get install coturn), or run without --relay',
    );
  }
  return {
    kvs,
    session: {
      region: kvs.region,
      credentials: kvs.credentials,
      endpoint: kvs.endpoint,
      caCertPath: kvs.caCertPath,
    },
    pageUrl: (channel, relay) =>
      viewerPageUrl(kvs.endpoint, {
        channel,
        region: kvs.region,
        ...kvs.credentials,
        ...(relay ? { relay } : {}),
      }),
    stop,
  };
}

export interface DemoOptions {
  /** How long the stream runs once the viewers are started (ms); 0: until `signal`. Default 10 s. */
  durationMs?: number;
  /** Native viewers to start. Default 1. */
  viewers?: number;
  /** TURN only (through the local coturn). */
  relay?: boolean;
  /** Start coturn (when installed). Default true; --relay needs it. */
  turn?: boolean;
  /** Event lines (connected, left, the summary). Default console.log. */
  print?: (line: string) => void;
  /** The status line, once a second. Default: `print`. */
  status?: (line: string) => void;
  /** Answer key-frame requests at once (default), or let joiners wait for the clip's next one. */
  answerKeyFrameRequests?: boolean;
  /** Run the DTLS-SRTP self-test first (default true). */
  selfTest?: boolean;
  /** Stops the demo early (Ctrl-C). */
  signal?: AbortSignal;
}

export interface DemoViewerSummary {
  clientId: string;
  connected: boolean;
  /** connect() to connected (signaling, offer/answer, ICE, DTLS), ms. */
  connectMs: number | undefined;
  /** connect() to the first whole video frame, ms. */
  timeToFirstFrameMs: number | undefined;
  framesReceived: { video: number; audio: number };
  bytesReceived: number;
  metrics: LinkMetrics | undefined;
}

export interface DemoSummary {
  ok: boolean;
  /** Why not ok. */
  failure: string | undefined;
  channel: string;
  endpoint: string;
  pageUrl: string;
  turn: boolean;
  relay: boolean;
  durationMs: number;
  master: {
    framesWritten: { video: number; audio: number };
    /** outbound-rtp framesSent over every session, when the core reports it. */
    framesSent: number | undefined;
    bytesSent: number;
    refused: number;
  };
  viewers: DemoViewerSummary[];
  /** Median (and spread) of the viewers' time to first frame. */
  timeToFirstFrameMs: { median: number; min: number; max: number } | undefined;
}

function median(values: number[]): { median: number; min: number; max: number } | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const m = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median: m, min: s[0] as number, max: s[s.length - 1] as number };
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
const kb = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`;

function waitFor(durationMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = durationMs > 0 ? setTimeout(done, durationMs) : undefined;
    function done(): void {
      if (t) clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs the demo and resolves with its summary (printed too). It does not throw when frames
 * did not flow: `ok` is false and `failure` says why; it throws for set-up failures (the
 * service, coturn missing with `relay`).
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const print = options.print ?? ((line: string) => console.log(line));
  const status = options.status ?? print;
  const viewerCount = options.viewers ?? 1;
  if (!Number.isInteger(viewerCount) || viewerCount < 1 || viewerCount > 100) {
    throw new KvsError('ERR_INVALID_ARGUMENT', `demo: viewers must be 1..100, got ${viewerCount}`);
  }
  const durationMs = options.durationMs ?? 10_000;
  const relay = options.relay === true;
  const v = versions();
  print(`kvs-webrtc: ${v.openssl} (${v.opensslPlatform}), ${v.libsrtp2}, usrsctp ${v.usrsctp}`);
  if (options.selfTest !== false) {
    for (const r of selfTest()) print(`self-test ${r.profile}: ok (${r.dtlsVersion}, ${r.cipher})`);
  }

  const svc = await startEmbeddedService({
    turn: relay ? 'required' : options.turn !== false,
    viewers: viewerCount,
  });
  const channel = `demo-${process.pid}-${Date.now().toString(36)}`;
  const pageUrl = svc.pageUrl(channel, relay);
  print(`local KVS service at ${svc.kvs.endpoint} (region ${svc.kvs.region})`);
  print(
    svc.kvs.turn
      ? `TURN: coturn at ${svc.kvs.turn.uris[0] ?? '?'}${relay ? ' (relay only)' : ''}`
      : `TURN: none (${svc.kvs.turnUnavailableReason ?? ''}); host candidates on loopback`,
  );
  const common: SessionOptions = {
    ...svc.session,
    channelName: channel,
    iceTransportPolicy: relay ? 'relay' : 'all',
    // The demo stays on this machine: host candidates on loopback only.
    peerConnection: { interfaces: LOOPBACK_ONLY },
  };
  const source = new LoopingMediaSource({
    ...sampleTracks(),
    ...(options.answerKeyFrameRequests === false ? { answerKeyFrameRequests: false } : {}),
  });
  const master = new Master({ ...common, maxViewers: Math.max(10, viewerCount) });
  const viewers: Viewer[] = [];
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    source.on('frame', (kind, frame) => master.writeFrame(kind, frame));
    master.on('keyframerequest', () => source.requestKeyFrame());
    master.on('viewer', (id) => print(`master: viewer ${id}: Connection established`));
    master.on('viewerleft', (id, reason) => {
      if (reason !== 'closed') print(`master: viewer ${id} left (${reason})`);
    });
    await master.start();
    print(`master on channel ${channel}, streaming the sample (H.264 640x480 25 fps, Opus 20 ms)`);
    print(`viewer page: ${pageUrl}`);
    print(`  (the browser must trust ${svc.kvs.caCertPath}, or accept the certificate once)`);
    source.start();

    for (let i = 0; i < viewerCount; i++) {
      const viewer = new Viewer({ ...common, clientId: `demo-viewer-${i + 1}` });
      viewers.push(viewer);
    }
    const connects = viewers.map((viewer) =>
      viewer.connect(options.signal).then(
        () => {
          print(
            `viewer ${viewer.clientId}: Connection established in ${ms(viewer.timeline.connected !== undefined && viewer.timeline.connectStarted !== undefined ? viewer.timeline.connected - viewer.timeline.connectStarted : undefined)}`,
          );
          viewer.once('frame', () =>
            print(
              `viewer ${viewer.clientId}: first frame after ${ms(viewer.timeToFirstFrame('video') ?? viewer.timeToFirstFrame('audio'))}`,
            ),
          );
        },
        (e: unknown) => {
          print(`viewer ${viewer.clientId}: ${e instanceof Error ? e.message : String(e)}`);
        },
      ),
    );
    const started = performance.now();
    const last = new Map<Viewer, { at: number; bytes: number }>();
    statusTimer = setInterval(() => {
      void (async () => {
        let kbps: number | undefined;
        let rtt: number | undefined;
        let lost = 0;
        let got = 0;
        const frames = { video: 0, audio: 0 };
        for (const viewer of viewers) {
          const m = await viewer.metrics().catch(() => undefined);
          const c = viewer.counters;
          if (c) {
            frames.video += c.framesReceived.video;
            frames.audio += c.framesReceived.audio;
          }
          if (!m) continue;
          const now = performance.now();
          const prev = last.get(viewer);
          if (prev) kbps = (kbps ?? 0) + ((m.bytesReceived - prev.bytes) * 8) / (now - prev.at);
          last.set(viewer, { at: now, bytes: m.bytesReceived });
          if (m.rttMs !== undefined) rtt = Math.max(rtt ?? 0, m.rttMs);
          lost += m.packetsLost ?? 0;
          got += m.packetsReceived ?? 0;
        }
        const t = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
        const connected = viewers.filter((x) => x.state === 'connected').length;
        status(
          `[${t}s] ${connected}/${viewers.length} viewers connected | sent v ${master.framesWritten.video} a ${master.framesWritten.audio}` +
            ` | received v ${frames.video} a ${frames.audio} | ${kbps === undefined ? '-' : kbps.toFixed(0)} kbit/s | rtt ${ms(rtt)}` +
            ` | loss ${got + lost > 0 ? ((100 * lost) / (got + lost)).toFixed(1) : '0.0'}%`,
        );
      })();
    }, 1000);
    statusTimer.unref();
    await Promise.all(connects);
    await waitFor(durationMs, options.signal);
    clearInterval(statusTimer);
    statusTimer = undefined;
    source.stop();

    // The figures as the stream stops: viewers first (their own view), then the master's.
    const viewerSummaries: DemoViewerSummary[] = [];
    for (const viewer of viewers) {
      const metrics = await viewer.metrics().catch(() => undefined);
      const c = viewer.counters;
      const t = viewer.timeline;
      viewerSummaries.push({
        clientId: viewer.clientId,
        connected: t.connected !== undefined,
        connectMs:
          t.connected !== undefined && t.connectStarted !== undefined
            ? t.connected - t.connectStarted
            : undefined,
        timeToFirstFrameMs: viewer.timeToFirstFrame('video'),
        framesReceived: {
          video: c?.framesReceived.video ?? 0,
          audio: c?.framesReceived.audio ?? 0,
        },
        bytesReceived: (c?.bytesReceived.video ?? 0) + (c?.bytesReceived.audio ?? 0),
        metrics,
      });
    }
    let framesSent: number | undefined;
    let bytesSent = 0;
    for (const s of master.viewers.values()) {
      const m = s.link ? await s.link.poll().catch(() => s.metrics) : undefined;
      if (m?.framesSent !== undefined) framesSent = (framesSent ?? 0) + m.framesSent;
      bytesSent += m?.bytesSent ?? 0;
    }
    const firsts = viewerSummaries
      .map((x) => x.timeToFirstFrameMs)
      .filter((x): x is number => x !== undefined);
    const silent = viewerSummaries.filter((x) => x.framesReceived.video === 0);
    const failure =
      silent.length === 0
        ? undefined
        : silent
            .map((x) =>
              x.connected
                ? `viewer ${x.clientId} connected but received no video frame`
                : `viewer ${x.clientId} did not connect`,
            )
            .join('; ');
    const summary: DemoSummary = {
      ok: failure === undefined,
      failure,
      channel,
      endpoint: svc.kvs.endpoint,
      pageUrl,
      turn: svc.kvs.turn !== undefined,
      relay,
      durationMs: performance.now() - started,
      master: {
        framesWritten: { ...master.framesWritten },
        framesSent,
        bytesSent,
        refused: master.refusedCount,
      },
      viewers: viewerSummaries,
      timeToFirstFrameMs: median(firsts),
    };
    printSummary(summary, print);
    return summary;
  } finally {
    if (statusTimer) clearInterval(statusTimer);
    source.stop();
    await Promise.allSettled(viewers.map((x) => x.close()));
    await master.close();
    await svc.stop();
  }
}

export function printSummary(s: DemoSummary, print: (line: string) => void): void {
  const n = s.viewers.length;
  const ttff = s.timeToFirstFrameMs;
  const totals = s.viewers.reduce(
    (a, x) => ({
      video: a.video + x.framesReceived.video,
      audio: a.audio + x.framesReceived.audio,
      bytes: a.bytes + x.bytesReceived,
      lost: a.lost + (x.metrics?.packetsLost ?? 0),
      packets: a.packets + (x.metrics?.packetsReceived ?? 0),
    }),
    { video: 0, audio: 0, bytes: 0, lost: 0, packets: 0 },
  );
  const first = s.viewers[0]?.metrics;
  const lossKnown = s.viewers.some((x) => x.metrics?.packetsLost !== undefined);
  print(
    `summary (${(s.durationMs / 1000).toFixed(1)} s, ${n} viewer${n === 1 ? '' : 's'}${s.relay ? ', relay only' : ''}):`,
  );
  print(
    `  time to first frame: ${ttff ? `${ms(ttff.median)}${n > 1 ? ` median (${ms(ttff.min)} to ${ms(ttff.max)})` : ''}` : 'none (no frame arrived)'}` +
      " (from the viewer's connect to its first whole video frame)",
  );
  print(
    `  frames sent: video ${s.master.framesWritten.video}, audio ${s.master.framesWritten.audio}` +
      (s.master.framesSent !== undefined
        ? ` (RTP video frames sent to viewers: ${s.master.framesSent})`
        : ''),
  );
  print(`  frames received: video ${totals.video}, audio ${totals.audio}`);
  print(`  bytes: sent ${kb(s.master.bytesSent)}, received ${kb(totals.bytes)} of frames`);
  print(
    `  loss: ${lossKnown ? `${totals.packets + totals.lost > 0 ? ((100 * totals.lost) / (totals.packets + totals.lost)).toFixed(2) : '0.00'}% (${totals.lost} of ${totals.packets + totals.lost} packets)` : 'not reported (no inbound-rtp stats)'}`,
  );
  print(`  round-trip time: ${ms(first?.rttMs)}${first?.rttSource ? ` (${first.rttSource})` : ''}`);
  print(
    `  selected candidate pair: ${describeCandidate(first?.local)} <-> ${describeCandidate(first?.remote)}`,
  );
  print(s.ok ? 'demo: ok' : `demo: FAILED: ${s.failure ?? ''}`);
}
