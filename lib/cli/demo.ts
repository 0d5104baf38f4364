/** `kvs-webrtc demo`: the end-to-end demo on this machine (lib/demo.ts). */
import {
  applyLogLevel,
  CliError,
  interruptSignal,
  numberOption,
  parse,
  StatusLine,
} from './common.js';

export const DEMO_USAGE = `usage: kvs-webrtc demo [options]

Runs everything on this machine, with no AWS account: the local KVS service (with coturn
for TURN when it is installed), a master streaming the sample media (H.264 640x480 25 fps and
Opus, looping in real time) and native viewers, all through signaling as on AWS. Shows a
status line once a second and ends with a summary: time to first frame, frames sent and
received, bytes, loss, round-trip time and the selected candidate pair. It prints the URL of
the viewer web page, which plays the same stream in a browser. Exits 1 when a viewer got no
video frame.

options:
  --duration <s>        how long to stream once the viewers start (default 10; 0: until Ctrl-C,
                        to watch the viewer page)
  --viewers <n>         native viewers to start (default 1)
  --relay               TURN only, through the local coturn (needs Debian's coturn)
  --no-turn             do not start coturn
  --no-keyframe-answer  do not answer key-frame requests: a viewer waits for the clip's next
                        key frame (up to 1 s), as one joining a camera's stream mid-GOP would
  --json                print the summary as one JSON line at the end
  --log-level <level>   1-7 or verbose, debug, info, warn, error, fatal, silent
  -h, --help            this text
`;

export async function runDemoCommand(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      duration: { type: 'string' },
      viewers: { type: 'string' },
      relay: { type: 'boolean' },
      'no-turn': { type: 'boolean' },
      'no-keyframe-answer': { type: 'boolean' },
      json: { type: 'boolean' },
      'log-level': { type: 'string' },
    },
    DEMO_USAGE,
    'demo',
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new CliError(`kvs-webrtc demo: unexpected ${positionals.join(' ')}\n\n${DEMO_USAGE}`, 2);
  }
  applyLogLevel(values['log-level']);
  if (values['relay'] && values['no-turn']) {
    throw new CliError('kvs-webrtc demo: --relay needs TURN; leave out --no-turn', 2);
  }
  const durationS = numberOption(values['duration'], 'duration', 10, 0, 86_400);
  const viewers = numberOption(values['viewers'], 'viewers', 1, 1, 100, true);
  const status = new StatusLine();
  const interrupt = interruptSignal();
  try {
    const { runDemo } = await import('../demo.js');
    const summary = await runDemo({
      durationMs: durationS * 1000,
      viewers,
      relay: values['relay'] === true,
      turn: values['no-turn'] !== true,
      answerKeyFrameRequests: values['no-keyframe-answer'] !== true,
      print: (line) => status.print(line),
      status: (line) => status.show(line),
      signal: interrupt.signal,
    });
    status.end();
    if (values['json']) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.ok ? 0 : 1;
  } finally {
    status.end();
    interrupt.dispose();
  }
}
