#!/usr/bin/env node
// One Viewer session in a child process, for faults.test.ts: a viewer that can vanish
// without a word (SIGKILL: no DTLS close_notify, no signaling goodbye, its sockets gone).
//   node viewer-child.mjs '<json: ViewerOptions without functions>'
// Out (JSON lines): {type:'connected'}, {type:'frames', video} at most every 100 ms while
// video arrives, {type:'error', message}.
import { createRequire } from 'node:module';
import { clearInterval, setInterval } from 'node:timers';

const require = createRequire(import.meta.url);
const { Viewer } = require('../../dist/index.js');
const options = JSON.parse(process.argv[2]);
const emit = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const viewer = new Viewer(options);
let video = 0;
let reported = 0;
viewer.on('frame', (kind) => {
  if (kind === 'video') video++;
});
viewer.on('error', (e) => emit({ type: 'error', message: e.message }));
const timer = setInterval(() => {
  if (video === reported) return;
  reported = video;
  emit({ type: 'frames', video });
}, 100);
viewer.connect().then(
  () => emit({ type: 'connected' }),
  (e) => {
    emit({ type: 'error', message: String(e?.message ?? e) });
    clearInterval(timer);
    void viewer.close().then(() => process.exit(1));
  },
);
// Bounded: the parent kills it long before this.
setTimeout(() => process.exit(2), 120_000).unref();
