/**
 * `kvs-webrtc viewer <channel>`: the C SDK's kvsWebrtcClientViewer. It offers, opens a data
 * channel, and reports the frames the master sends (each one's size with --frames); --save
 * keeps them, --video/--audio send frames back.
 */
import type { Codec, MediaKind } from '../peer/transceiver.js';
import { describeCandidate } from '../session/metrics.js';
import { Viewer } from '../session/viewer.js';
import {
  applyLogLevel,
  CHANNEL_OPTIONS,
  CHANNEL_USAGE,
  CliError,
  explain,
  interfacesFor,
  fmtBytes,
  fmtMs,
  interruptSignal,
  numberOption,
  parse,
  resolveTarget,
  sleep,
  StatusLine,
  str,
} from './common.js';
import {
  FrameSaver,
  fmtKbps,
  linkFigures,
  makeSource,
  RateMeter,
  RECEIVE_TRACKS,
} from './media.js';

export const VIEWER_USAGE = `usage: kvs-webrtc viewer <channel> [options]

Joins <channel> as a viewer, offers to receive video and audio, opens a data channel and
reports what the master sends, as the C SDK's kvsWebrtcClientViewer does. Runs until Ctrl-C
or --duration; exits 1 when no frame arrived.

options:
  --client-id <id>      the viewer's id on the channel (default viewer-<random>)
  --save <dir>          write received frames to <dir>/video/frame-0001.h264 ... and
                        <dir>/audio/sample-001.opus ... (replayable with master --video)
  --video <dir>         also send these Annex-B frames to the master (looping)
  --audio <dir>         also send these Opus packets to the master (looping)
  --message <text>      sent on the data channel once it opens (default a greeting)
  --frames              print the size of every frame received
  --duration <s>        stop after s seconds (default 0: until Ctrl-C)
  --timeout <s>         give up connecting after s seconds (default 30)
  --quiet               no status line
${CHANNEL_USAGE}  -h, --help            this text
`;

export async function runViewerCommand(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      ...CHANNEL_OPTIONS,
      'client-id': { type: 'string' },
      save: { type: 'string' },
      video: { type: 'string' },
      audio: { type: 'string' },
      message: { type: 'string' },
      frames: { type: 'boolean' },
      duration: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    VIEWER_USAGE,
    'viewer',
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const channel = positionals[0];
  if (!channel || positionals.length > 1) {
    throw new CliError(`kvs-webrtc viewer: give one channel name\n\n${VIEWER_USAGE}`, 2);
  }
  applyLogLevel(values['log-level']);
  const durationS = numberOption(values['duration'], 'duration', 0, 0, 86_400);
  const timeoutS = numberOption(values['timeout'], 'timeout', 30, 1, 3600);
  const target = await resolveTarget(values);
  const videoDir = str(values['video']);
  const audioDir = str(values['audio']);
  const sending = videoDir !== undefined || audioDir !== undefined;
  const made = sending
    ? makeSource({ video: videoDir ?? false, audio: audioDir ?? false })
    : undefined;
  // Both kinds are offered; the sent ones with the codec of their files.
  const tracks = RECEIVE_TRACKS.map((t) => made?.tracks.find((m) => m.kind === t.kind) ?? t);
  const interfaces = interfacesFor(values, target.local);
  const clientId = str(values['client-id']);
  const viewer = new Viewer({
    channelName: channel,
    ...(clientId ? { clientId } : {}),
    region: target.region,
    ...(target.credentials ? { credentials: target.credentials } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.caCertPath ? { caCertPath: target.caCertPath } : {}),
    tracks,
    iceTransportPolicy: values['relay'] ? 'relay' : 'all',
    connectTimeoutMs: timeoutS * 1000,
    ...(interfaces ? { peerConnection: { interfaces } } : {}),
    signaling: { retry: { maxAttempts: 3 } },
  });
  const status = new StatusLine();
  const out = (line: string): void => status.print(line);
  const codecs: Partial<Record<MediaKind, Codec>> = {};
  for (const t of tracks) codecs[t.kind] = t.codec;
  const saveDir = str(values['save']);
  const saver = saveDir ? new FrameSaver(saveDir, codecs) : undefined;
  const printFrames = values['frames'] === true;
  viewer.on('frame', (kind, frame) => {
    saver?.save(kind, frame);
    if (printFrames) out(`${kind} frame of size ${frame.frameData.length} received`);
  });
  viewer.on('message', (data) =>
    out(
      `message from the master: ${typeof data === 'string' ? data.slice(0, 200) : `<${data.length} bytes>`}`,
    ),
  );
  viewer.on('open', () => {
    const text = str(values['message']) ?? `hello from kvs-webrtc viewer ${viewer.clientId}`;
    viewer.sendMessage(text);
  });
  viewer.on('close', (reason) => out(`session ended (${reason})`));
  if (made) {
    made.source.on('frame', (kind, frame) => viewer.writeFrame(kind, frame));
    viewer.on('keyframerequest', () => made.source.requestKeyFrame());
  }

  const interrupt = interruptSignal();
  try {
    try {
      await viewer.connect(interrupt.signal);
    } catch (e) {
      throw new CliError(`kvs-webrtc viewer: ${explain(e, { channel, target, role: 'VIEWER' })}`);
    }
    const t = viewer.timeline;
    out(
      `viewer ${viewer.clientId} on channel ${channel} (${target.describe}): Connection established ` +
        `in ${fmtMs(t.connected !== undefined && t.connectStarted !== undefined ? t.connected - t.connectStarted : undefined)}`,
    );
    made?.source.start();
    const meter = new RateMeter();
    const started = performance.now();
    const until = durationS > 0 ? started + durationS * 1000 : Infinity;
    while (!interrupt.signal.aborted && performance.now() < until && viewer.state !== 'closed') {
      await sleep(1000, interrupt.signal);
      const m = await viewer.metrics();
      meter.update(m);
      if (values['quiet']) continue;
      const c = viewer.counters;
      const elapsed = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
      status.show(
        `[${elapsed}s] ${viewer.state}, frames v ${c?.framesReceived.video ?? 0} a ${c?.framesReceived.audio ?? 0}, ` +
          `${fmtKbps(meter.receivedBps)}, ${linkFigures(m)}, first frame ${fmtMs(viewer.timeToFirstFrame('video'))}`,
      );
    }
  } finally {
    interrupt.dispose();
    made?.source.stop();
    status.end();
    const m = await viewer.metrics().catch(() => undefined);
    const c = viewer.counters;
    await viewer.close();
    process.stdout.write(
      [
        `viewer ${viewer.clientId}: received ${c?.framesReceived.video ?? 0} video and ` +
          `${c?.framesReceived.audio ?? 0} audio frames (${fmtBytes((c?.bytesReceived.video ?? 0) + (c?.bytesReceived.audio ?? 0))}), ` +
          `time to first frame ${fmtMs(viewer.timeToFirstFrame('video'))}`,
        `  ${linkFigures(m)}, pair ${describeCandidate(m?.local)} <-> ${describeCandidate(m?.remote)}` +
          (saveDir ? `, saved to ${saveDir}` : ''),
        '',
      ].join('\n'),
    );
  }
  const received = viewer.counters;
  return (received?.framesReceived.video ?? 0) + (received?.framesReceived.audio ?? 0) > 0 ? 0 : 1;
}
