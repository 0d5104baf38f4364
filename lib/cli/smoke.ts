/**
 * `kvs-webrtc smoke <channel>`: a CI smoke test against a real or local channel. It creates
 * the channel when missing, runs a master and a viewer in this process, and checks that
 * frames flow both ways, that a data-channel message round-trips and that the metrics are
 * sane. Exit 0 on pass; 1 with the failed check's reason otherwise; --json gives the report.
 */
import { randomBytes } from 'node:crypto';
import type { MediaKind } from '../peer/transceiver.js';
import { Master } from '../session/master.js';
import type { LinkMetrics } from '../session/metrics.js';
import { describeCandidate } from '../session/metrics.js';
import type { SessionOptions } from '../session/options.js';
import { Viewer } from '../session/viewer.js';
import {
  applyLogLevel,
  CHANNEL_OPTIONS,
  CHANNEL_USAGE,
  CliError,
  explain,
  interfacesFor,
  numberOption,
  parse,
  resolveTarget,
  type Target,
} from './common.js';
import { makeSource } from './media.js';

export const SMOKE_USAGE = `usage: kvs-webrtc smoke <channel> [options]

A smoke test for CI against a real or local channel: creates <channel> if it is missing, runs
a master and a viewer in this process and checks, in order:
  master        the master joins the channel (creating it when missing)
  ice-servers   the channel's ICE configuration (with --relay: it has a TURN server)
  viewer        the viewer's peer connection connects
  media-down    master -> viewer: video and audio frames arrive whole
  media-up      viewer -> master: video and audio frames arrive whole
  data-channel  a message from the viewer comes back from the master, byte for byte
  metrics       round-trip time, bytes, packets and loss are sane on both sides
Exits 0 when every check passes, 1 with the failed check's reason otherwise, 2 on bad usage.

options:
  --local               run against an embedded local service (no AWS, no --endpoint)
  --no-turn             with --local: no coturn
  --frames <n>          frames of each kind each way to wait for (default 10)
  --timeout <s>         per check (default 20)
  --json                print the report as one JSON line (and nothing else)
${CHANNEL_USAGE}  -h, --help            this text
`;

export interface SmokeCheck {
  name: string;
  /** null: skipped (an earlier check failed). */
  ok: boolean | null;
  detail: string;
  ms: number;
}

export interface SmokeReport {
  ok: boolean;
  channel: string;
  target: string;
  relay: boolean;
  checks: SmokeCheck[];
  /** The first failed check's reason. */
  failure: string | undefined;
  timeToFirstFrameMs: number | undefined;
  metrics: { master: LinkMetrics | undefined; viewer: LinkMetrics | undefined };
}

class Failed extends Error {}

/** Polls `done` every 50 ms until it holds or `ms` pass (then throws with `why()`). */
async function until(done: () => boolean, ms: number, why: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Failed(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

function saneMetrics(side: string, m: LinkMetrics | undefined): string[] {
  if (!m) return [`${side}: no statistics`];
  const bad: string[] = [];
  if (!m.local || !m.remote) bad.push(`${side}: no selected candidate pair`);
  if (m.rttMs === undefined) bad.push(`${side}: no round-trip time`);
  else if (!(m.rttMs >= 0 && m.rttMs <= 2000)) bad.push(`${side}: round-trip time ${m.rttMs} ms`);
  if (!(m.bytesSent > 0)) bad.push(`${side}: no bytes sent`);
  if (!(m.bytesReceived > 0)) bad.push(`${side}: no bytes received`);
  if (m.hasRtpStats) {
    if (!((m.packetsSent ?? 0) > 0)) bad.push(`${side}: no RTP packets sent`);
    if (!((m.packetsReceived ?? 0) > 0)) bad.push(`${side}: no RTP packets received`);
    if (m.lossFraction !== undefined && !(m.lossFraction >= 0 && m.lossFraction <= 0.1)) {
      bad.push(`${side}: ${(m.lossFraction * 100).toFixed(1)}% of packets lost`);
    }
  }
  return bad;
}

export async function runSmokeCommand(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      ...CHANNEL_OPTIONS,
      local: { type: 'boolean' },
      'no-turn': { type: 'boolean' },
      frames: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
    SMOKE_USAGE,
    'smoke',
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const channel = positionals[0];
  if (!channel || positionals.length > 1) {
    throw new CliError(`kvs-webrtc smoke: give one channel name\n\n${SMOKE_USAGE}`, 2);
  }
  if (values['local'] && values['endpoint']) {
    throw new CliError('kvs-webrtc smoke: --local and --endpoint exclude each other', 2);
  }
  applyLogLevel(values['log-level']);
  const frames = numberOption(values['frames'], 'frames', 10, 1, 10_000, true);
  const timeoutMs = numberOption(values['timeout'], 'timeout', 20, 1, 600) * 1000;
  const relay = values['relay'] === true;
  const json = values['json'] === true;
  const say = (line: string): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };

  const checks: SmokeCheck[] = [];
  const report: SmokeReport = {
    ok: false,
    channel,
    target: '',
    relay,
    checks,
    failure: undefined,
    timeToFirstFrameMs: undefined,
    metrics: { master: undefined, viewer: undefined },
  };
  // A check runs when the checks it needs passed; media, messages and metrics need only the
  // connection, so one failing does not hide the others.
  const passed = new Set<string>();
  const step = async (name: string, needs: string[], run: () => Promise<string>): Promise<void> => {
    const t = performance.now();
    const missing = needs.filter((n) => !passed.has(n));
    if (missing.length > 0) {
      checks.push({ name, ok: null, detail: `skipped (needs ${missing.join(', ')})`, ms: 0 });
      say(`smoke: SKIP ${name}`);
      return;
    }
    try {
      const detail = await run();
      passed.add(name);
      checks.push({ name, ok: true, detail, ms: performance.now() - t });
      say(`smoke: ok   ${name}: ${detail}`);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      checks.push({ name, ok: false, detail, ms: performance.now() - t });
      report.failure ??= `${name}: ${detail}`;
      say(`smoke: FAIL ${name}: ${detail}`);
    }
  };

  let target: Target | undefined;
  let embedded: { stop(): Promise<void> } | undefined;
  let session: SessionOptions;
  if (values['local']) {
    const { startEmbeddedService } = await import('../demo.js');
    const svc = await startEmbeddedService({ turn: values['no-turn'] !== true });
    embedded = svc;
    session = { ...svc.session };
    report.target = `an embedded local service ${svc.kvs.endpoint}`;
  } else {
    try {
      target = await resolveTarget(values);
    } catch (e) {
      // No credentials, no region: the report says so too.
      if (!json || !(e instanceof CliError)) throw e;
      report.failure = `setup: ${e.message}`;
      checks.push({ name: 'setup', ok: false, detail: e.message, ms: 0 });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return 1;
    }
    session = {
      region: target.region,
      ...(target.credentials ? { credentials: target.credentials } : {}),
      ...(target.endpoint ? { endpoint: target.endpoint } : {}),
      ...(target.caCertPath ? { caCertPath: target.caCertPath } : {}),
    };
    report.target = target.describe;
  }
  const interfaces = interfacesFor(values, values['local'] === true || target?.local === true);
  const common: SessionOptions = {
    ...session,
    channelName: channel,
    ...(interfaces ? { peerConnection: { interfaces } } : {}),
    iceTransportPolicy: relay ? 'relay' : 'all',
    signaling: { retry: { maxAttempts: 3 } },
  };
  const down = makeSource({ video: undefined, audio: undefined });
  const up = makeSource({ video: undefined, audio: undefined });
  const master = new Master({ ...common, tracks: down.tracks });
  const viewer = new Viewer({
    ...common,
    clientId: `smoke-${randomBytes(4).toString('hex')}`,
    tracks: up.tracks,
    connectTimeoutMs: timeoutMs,
  });
  const fromViewer: Record<MediaKind, number> = { video: 0, audio: 0 };
  down.source.on('frame', (kind, f) => master.writeFrame(kind, f));
  master.on('keyframerequest', () => down.source.requestKeyFrame());
  master.on('frame', (kind) => fromViewer[kind]++);
  master.on('message', (data, id) => master.sendMessage(data, id));
  up.source.on('frame', (kind, f) => viewer.writeFrame(kind, f));
  viewer.on('keyframerequest', () => up.source.requestKeyFrame());
  say(`smoke: channel ${channel} on ${report.target}${relay ? ', relay only' : ''}`);

  try {
    await step('master', [], async () => {
      try {
        await master.start();
      } catch (e) {
        throw new Failed(explain(e, { channel, ...(target ? { target } : {}), role: 'MASTER' }));
      }
      down.source.start();
      const created = master.signaling.getMetrics().createCallTime > 0;
      return `joined ${master.signaling.channelARN ?? channel}${created ? ' (created it)' : ''}`;
    });
    await step('ice-servers', ['master'], async () => {
      const servers = await master.signaling.getIceServers();
      const turn = servers.filter((s) => s.urls.some((u) => /^turns?:/i.test(u)));
      if (relay && turn.length === 0) {
        throw new Failed(
          'relay only, but the channel has no TURN server (TURN is off on the service): frames cannot flow',
        );
      }
      return `${servers.length} server(s), ${turn.length} with TURN`;
    });
    await step('viewer', ['ice-servers'], async () => {
      try {
        await viewer.connect();
      } catch (e) {
        throw new Failed(explain(e, { channel, ...(target ? { target } : {}), role: 'VIEWER' }));
      }
      up.source.start();
      const t = viewer.timeline;
      return `${viewer.clientId} connected in ${((t.connected ?? 0) - (t.connectStarted ?? 0)).toFixed(1)} ms`;
    });
    await step('media-down', ['viewer'], async () => {
      const c = () => viewer.counters?.framesReceived ?? { video: 0, audio: 0 };
      await until(
        () => c().video >= frames && c().audio >= frames,
        timeoutMs,
        () =>
          `after ${timeoutMs / 1000} s the viewer had ${c().video} video and ${c().audio} audio frames ` +
          `of ${frames} each (master wrote ${master.framesWritten.video} and ${master.framesWritten.audio})`,
      );
      report.timeToFirstFrameMs = viewer.timeToFirstFrame('video');
      return `${c().video} video and ${c().audio} audio frames; first video frame ${report.timeToFirstFrameMs?.toFixed(1) ?? '?'} ms after connect`;
    });
    await step('media-up', ['viewer'], async () => {
      await until(
        () => fromViewer.video >= frames && fromViewer.audio >= frames,
        timeoutMs,
        () =>
          `after ${timeoutMs / 1000} s the master had ${fromViewer.video} video and ${fromViewer.audio} audio frames from the viewer, of ${frames} each`,
      );
      return `${fromViewer.video} video and ${fromViewer.audio} audio frames`;
    });
    await step('data-channel', ['viewer'], async () => {
      const ch = viewer.dataChannel;
      if (!ch) throw new Failed('the viewer has no data channel');
      await until(
        () => ch.readyState === 'open',
        timeoutMs,
        () => `the data channel is ${ch.readyState}`,
      );
      const nonce = `smoke-${randomBytes(8).toString('hex')}`;
      const t = performance.now();
      const echoed = new Promise<string>((resolve) => {
        const on = (m: string | Buffer): void => {
          const text = typeof m === 'string' ? m : m.toString('utf8');
          if (text === nonce) {
            viewer.off('message', on);
            resolve(text);
          }
        };
        viewer.on('message', on);
      });
      viewer.sendMessage(nonce);
      let got = false;
      void echoed.then(() => (got = true));
      await until(
        () => got,
        timeoutMs,
        () => 'the message did not come back',
      );
      return `round trip in ${(performance.now() - t).toFixed(1)} ms`;
    });
    await step('metrics', ['viewer'], async () => {
      const session = master.viewers.get(viewer.clientId);
      const m = session?.link ? await session.link.poll() : undefined;
      const v = await viewer.metrics();
      report.metrics = { master: m, viewer: v };
      const bad = [...saneMetrics('master', m), ...saneMetrics('viewer', v)];
      if (bad.length > 0) throw new Failed(bad.join('; '));
      const note = v?.hasRtpStats ? '' : ' (no RTP statistics from the core: ICE figures only)';
      return (
        `rtt ${v?.rttMs?.toFixed(1) ?? '?'} ms (${v?.rttSource ?? '?'}), loss ${((v?.lossFraction ?? 0) * 100).toFixed(1)}%, ` +
        `pair ${describeCandidate(v?.local)} <-> ${describeCandidate(v?.remote)}${note}`
      );
    });
  } finally {
    down.source.stop();
    up.source.stop();
    await viewer.close();
    await master.close();
    await embedded?.stop();
  }
  report.ok = checks.every((c) => c.ok === true);
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else say(report.ok ? 'smoke: PASS' : `smoke: FAIL (${report.failure ?? ''})`);
  return report.ok ? 0 : 1;
}
