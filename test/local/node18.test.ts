/**
 * The local service on Debian's Node 18 (the oldest Node the package supports): it starts with
 * coturn, and the pinned AWS SDK v3 client, also running on Node 18, creates and describes a
 * channel through it. Node 18 is the Debian package the repository's setup unpacks into its cache.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChildEntry, cleanupChildBuild } from './child.js';
import { removeDir, tempDir } from './helpers.js';

interface DebianNode {
  root: string;
  node: string;
  libDir: string;
}

const REPO = process.cwd();
let debianNode: DebianNode;
let dataDir: string;

beforeAll(() => {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { ensureDebianNode18 } from ${JSON.stringify(join(REPO, 'scripts/lib/debian-node.mjs'))};` +
        'console.log(JSON.stringify(ensureDebianNode18()));',
    ],
    { encoding: 'utf8', timeout: 170_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  debianNode = JSON.parse(r.stdout) as DebianNode;
  dataDir = tempDir();
}, 180_000);

afterAll(() => {
  if (dataDir) removeDir(dataDir);
  cleanupChildBuild();
});

describe("on Debian's Node 18", () => {
  it('serves the AWS SDK v3 client, with TURN', () => {
    const local = join(dirname(buildChildEntry()), 'local');
    const probe = join(dirname(local), 'probe18.js');
    writeFileSync(
      probe,
      `const { startLocalKvs } = require(${JSON.stringify(join(local, 'index.js'))});
const https = require('https');
const kvs = require('@aws-sdk/client-kinesis-video');
(async () => {
  const svc = await startLocalKvs({ dataDir: process.argv[2], turn: true, log: () => undefined });
  try {
    const kv = new kvs.KinesisVideoClient({
      region: svc.region, endpoint: svc.endpoint, maxAttempts: 1,
      credentials: { ...svc.credentials },
      requestHandler: { httpsAgent: new https.Agent({ ca: svc.caCert }) },
    });
    const arn = (await kv.send(new kvs.CreateSignalingChannelCommand({ ChannelName: 'n18' }))).ChannelARN;
    const d = await kv.send(new kvs.DescribeSignalingChannelCommand({ ChannelARN: arn }));
    console.log(JSON.stringify({ node: process.version, name: d.ChannelInfo.ChannelName, turn: svc.turn ? svc.turn.uris.length : 0 }));
  } finally {
    await svc.stop({ graceful: false });
  }
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const share = join(debianNode.root, 'usr', 'share');
    // Debian's node looks for its externalised builtins in /usr/share/nodejs: overlay them for
    // this child alone, in a private mount namespace.
    const script = `mount -t overlay overlay -o lowerdir="${share}":/usr/share /usr/share && exec "${debianNode.node}" "$@"`;
    const r = spawnSync('unshare', ['--mount', 'sh', '-c', script, 'node18', probe, dataDir], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        LD_LIBRARY_PATH: debianNode.libDir,
        NODE_PATH: join(REPO, 'node_modules'),
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
    expect(out).toEqual({ node: expect.stringMatching(/^v18\./) as string, name: 'n18', turn: 6 }); // two servers, three URIs each
  });
});
