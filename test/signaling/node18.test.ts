/**
 * The signaling client on Debian's Node 18 (the oldest Node the package supports): the built
 * package's SignalingClient, in a Node 18 child, connects master and viewer to a local service
 * run by this process and exchanges offer, answer and a candidate over real TLS sockets.
 * Like test/package, it uses the built `dist/` (npm test builds it first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKvs } from '../../lib/local/index.js';
import { ROOT } from '../helpers/root.js';
import { removeDir, startService } from './helpers.js';

interface DebianNode {
  root: string;
  node: string;
  libDir: string;
}

let svc: LocalKvs;
let dataDir: string;
let debianNode: DebianNode;

beforeAll(async () => {
  const fetched = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { ensureDebianNode18 } from ${JSON.stringify(path.join(ROOT, 'scripts/lib/debian-node.mjs'))};` +
        'console.log(JSON.stringify(ensureDebianNode18()));',
    ],
    { encoding: 'utf8' },
  );
  expect(fetched.status, fetched.stderr).toBe(0);
  debianNode = JSON.parse(fetched.stdout) as DebianNode;
  ({ svc, dataDir } = await startService());
}, 180_000);

afterAll(async () => {
  // Unset when beforeAll failed before assigning it.
  await (svc as LocalKvs | undefined)?.stop({ graceful: false });
  if (dataDir) removeDir(dataDir);
});

const CHILD = `
const { SignalingClient } = require(process.env.KVS_DIST);
const base = JSON.parse(process.env.KVS_OPTS);
(async () => {
  const master = new SignalingClient({ ...base, role: 'MASTER', channelName: 'node18', createIfMissing: true });
  await master.connect();
  const viewer = new SignalingClient({ ...base, role: 'VIEWER', channelName: 'node18', clientId: 'v18' });
  await viewer.connect();
  const gotOffer = new Promise((r) => master.once('sdpOffer', (d, from) => r([d, from])));
  await viewer.sendSdpOffer({ type: 'offer', sdp: 'v=0\\r\\n' });
  const [offer, from] = await gotOffer;
  const gotAnswer = new Promise((r) => viewer.once('sdpAnswer', r));
  await master.sendSdpAnswer({ type: 'answer', sdp: 'v=0\\r\\n' }, from);
  const answer = await gotAnswer;
  const gotCand = new Promise((r) => master.once('iceCandidate', r));
  await viewer.sendIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
  const cand = await gotCand;
  const out = { version: process.version, offer, from, answer, cand,
    master: master.getMetrics(), viewer: viewer.getMetrics(), state: viewer.state };
  await viewer.close();
  await master.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

function runNode18(
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const share = path.join(debianNode.root, 'usr', 'share');
  const script =
    `mount -t overlay overlay -o lowerdir="${share}":/usr/share /usr/share && ` +
    `exec "${debianNode.node}" "$@"`;
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--mount', 'sh', '-c', script, 'node18', '-e', CHILD], {
      env: { ...process.env, ...env, LD_LIBRARY_PATH: debianNode.libDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe("the signaling client on Debian's Node 18", () => {
  it('connects and exchanges offer, answer and a candidate with exact metrics', async () => {
    const dist = path.join(ROOT, 'dist', 'index.js');
    const built = statSync(path.join(ROOT, 'dist', 'signaling', 'client.js')).mtimeMs;
    const source = statSync(path.join(ROOT, 'lib', 'signaling', 'client.ts')).mtimeMs;
    expect(built, 'dist/ is older than lib/: run npm run build:ts').toBeGreaterThanOrEqual(source);
    const r = await runNode18({
      KVS_DIST: dist,
      KVS_OPTS: JSON.stringify({
        region: svc.region,
        endpoint: svc.endpoint,
        caCertPath: svc.caCertPath,
        credentials: svc.credentials,
      }),
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      version: string;
      from: string;
      offer: unknown;
      answer: unknown;
      cand: { candidate: string };
      master: { numberOfMessagesSent: number; numberOfMessagesReceived: number };
      viewer: { numberOfMessagesSent: number; numberOfMessagesReceived: number };
      state: string;
    };
    expect(out.version).toMatch(/^v18\./);
    expect(out.from).toBe('v18');
    expect(out.offer).toEqual({ type: 'offer', sdp: 'v=0\r\n' });
    expect(out.answer).toEqual({ type: 'answer', sdp: 'v=0\r\n' });
    expect(out.cand.candidate).toMatch(/^candidate:1 /);
    expect(out.state).toBe('CONNECTED');
    expect(out.master).toMatchObject({ numberOfMessagesSent: 1, numberOfMessagesReceived: 2 });
    expect(out.viewer).toMatchObject({ numberOfMessagesSent: 2, numberOfMessagesReceived: 1 });
  });
});
