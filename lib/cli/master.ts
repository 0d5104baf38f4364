/**
 * `kvs-webrtc master <channel>`: the C SDK's kvsWebrtcClientMaster, one command away. It
 * streams frame directories (the package's samples by default) to every viewer of the
 * channel, on the real KVS (region and credentials from the usual AWS sources) or a local
 * service (--endpoint).
 */
import path from 'node:path';
import type { Codec, MediaKind } from '../peer/transceiver.js';
import { Master } from '../session/master.js';
import { describeCandidate } from '../session/metrics.js';
import {
  applyLogLevel,
  CHANNEL_OPTIONS,
  CHANNEL_USAGE,
  CliError,
  explain,
  interfacesFor,
  fmtBytes,
  interruptSignal,
  numberOption,
  parse,
  resolveTarget,
  sleep,
  StatusLine,
  str,
} from './common.js';
import { FrameSaver, fmtKbps, linkFigures, makeSource, RateMeter } from './media.js';

export const MASTER_USAGE = `usage: kvs-webrtc master <channel> [options]

Joins <channel> as its master and streams H.264 video and Opus audio, looping in real time,
to every viewer (one peer connection each, at most --max-viewers), as the C SDK's
kvsWebrtcClientMaster does. Creates the channel when it does not exist. Data-channel messages
from viewers are printed and echoed back. Runs until Ctrl-C or --duration.

  kvs-webrtc master my-channel --region us-west-2          # AWS, credentials as the AWS CLI
  kvs-webrtc master my-channel --endpoint https://127.0.0.1:PORT   # a local service

options:
  --video <dir>         Annex-B frames to stream, one per file (frame-0001.h264 ...);
                        default: the package's 640x480 25 fps sample
  --audio <dir>         Opus packets, one per file (sample-001.opus ...), 20 ms each;
                        default: the package's sample
  --no-video, --no-audio  do not send that kind
  --save <dir>          write the frames viewers send to <dir>/<viewer>/<kind>/
  --max-viewers <n>     at most n viewers at once (default 10); others get no answer
  --duration <s>        stop after s seconds (default 0: until Ctrl-C)
  --quiet               no status line
${CHANNEL_USAGE}  -h, --help            this text
`;

export async function runMasterCommand(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      ...CHANNEL_OPTIONS,
      video: { type: 'string' },
      audio: { type: 'string' },
      'no-video': { type: 'boolean' },
      'no-audio': { type: 'boolean' },
      save: { type: 'string' },
      'max-viewers': { type: 'string' },
      duration: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    MASTER_USAGE,
    'master',
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const channel = positionals[0];
  if (!channel || positionals.length > 1) {
    throw new CliError(`kvs-webrtc master: give one channel name\n\n${MASTER_USAGE}`, 2);
  }
  applyLogLevel(values['log-level']);
  const maxViewers = numberOption(values['max-viewers'], 'max-viewers', 10, 1, 1000, true);
  const durationS = numberOption(values['duration'], 'duration', 0, 0, 86_400);
  const target = await resolveTarget(values);
  const { source, tracks } = makeSource({
    video: values['no-video'] ? false : str(values['video']),
    audio: values['no-audio'] ? false : str(values['audio']),
  });
  const interfaces = interfacesFor(values, target.local);
  const master = new Master({
    channelName: channel,
    region: target.region,
    ...(target.credentials ? { credentials: target.credentials } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.caCertPath ? { caCertPath: target.caCertPath } : {}),
    tracks,
    maxViewers,
    iceTransportPolicy: values['relay'] ? 'relay' : 'all',
    ...(interfaces ? { peerConnection: { interfaces } } : {}),
    signaling: { retry: { maxAttempts: 3 } },
  });
  const status = new StatusLine();
  const out = (line: string): void => status.print(line);
  const saveDir = str(values['save']);
  const savers = new Map<string, FrameSaver>();
  const codecs: Partial<Record<MediaKind, Codec>> = {};
  for (const t of tracks) codecs[t.kind] = t.codec;

  source.on('frame', (kind, frame) => master.writeFrame(kind, frame));
  master.on('keyframerequest', () => source.requestKeyFrame());
  master.on('viewer', (id, s) => {
    const ms =
      s.link?.timeline.connected !== undefined ? s.link.timeline.connected - s.offerAt : undefined;
    out(
      `viewer ${id}: Connection established${ms === undefined ? '' : ` (${ms.toFixed(1)} ms from its offer)`}`,
    );
  });
  master.on('viewerleft', (id, reason) => out(`viewer ${id}: session ended (${reason})`));
  master.on('viewerrefused', (id, info) =>
    out(
      `viewer ${id}: refused, ${info.maxViewers} viewers already (--max-viewers ${info.maxViewers})`,
    ),
  );
  master.on('message', (data, id) => {
    const text = typeof data === 'string' ? data : `<${data.length} bytes>`;
    out(`message from ${id}: ${text.slice(0, 200)}`);
    master.sendMessage(data, id);
  });
  master.on('frame', (kind, frame, id) => {
    if (!saveDir) return;
    let saver = savers.get(id);
    if (!saver) {
      saver = new FrameSaver(path.join(saveDir, id), codecs);
      savers.set(id, saver);
    }
    saver.save(kind, frame);
  });
  master.on('error', (e, id) => out(`${id ? `viewer ${id}: ` : ''}${e.message}`));

  const interrupt = interruptSignal();
  try {
    try {
      await master.start(interrupt.signal);
    } catch (e) {
      throw new CliError(`kvs-webrtc master: ${explain(e, { channel, target, role: 'MASTER' })}`);
    }
    out(
      `master on channel ${channel} (${target.describe}), ARN ${master.signaling.channelARN ?? '?'}; ` +
        `streaming ${source.kinds.map((k) => `${k} ${source.codecOf(k) ?? ''}`).join(', ')}; Ctrl-C stops`,
    );
    source.start();
    const meters = new Map<string, RateMeter>();
    const started = performance.now();
    const until = durationS > 0 ? started + durationS * 1000 : Infinity;
    while (!interrupt.signal.aborted && performance.now() < until) {
      await sleep(1000, interrupt.signal);
      if (values['quiet']) continue;
      let sent = 0;
      const parts: string[] = [];
      for (const [id, s] of master.viewers) {
        let meter = meters.get(id);
        if (!meter) {
          meter = new RateMeter();
          meters.set(id, meter);
        }
        meter.update(s.metrics, s.link?.lastStats?.at);
        sent += meter.sentBps ?? 0;
        parts.push(`${id} ${s.state} ${linkFigures(s.metrics)}`);
      }
      const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
      status.show(
        `[${t}s] ${master.connectedCount}/${master.viewers.size} viewers, frames v ${master.framesWritten.video} a ${master.framesWritten.audio}, ` +
          `${fmtKbps(sent)}${parts.length ? ` | ${parts.join(' | ')}` : ''}`,
      );
    }
  } finally {
    interrupt.dispose();
    source.stop();
    status.end();
    const lines: string[] = [];
    for (const [id, s] of master.viewers) {
      const m = s.metrics;
      lines.push(
        `  ${id}: ${s.state}, sent ${fmtBytes(m?.bytesSent ?? 0)}, ${linkFigures(m)}, pair ` +
          `${describeCandidate(m?.local)} <-> ${describeCandidate(m?.remote)}`,
      );
    }
    await master.close();
    const sm = master.signaling.getMetrics();
    process.stdout.write(
      [
        `master: ${master.framesWritten.video} video and ${master.framesWritten.audio} audio frames written, ` +
          `${master.refusedCount} viewers refused`,
        ...lines,
        `signaling: ${sm.numberOfMessagesSent} sent, ${sm.numberOfMessagesReceived} received, ` +
          `${sm.numberOfErrors} errors, ${sm.numberOfReconnects} reconnects`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}
