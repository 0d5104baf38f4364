// `kvs-webrtc master` and `kvs-webrtc viewer` as two processes on a local service: the
// viewer saves what the master streams from a frame directory, and the saved directory is
// the same frames, ready to stream again. Needs the native receive path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFrameDir } from '../../lib/index.js';
import type { LocalKvs } from '../../lib/local/index.js';
import { carriedNals, h264Samples } from '../helpers/media.js';
import { removeDir, startTestService } from '../local/helpers.js';
import { cleanEnv, cliAsync } from './helpers.js';

describe('kvs-webrtc master and viewer', () => {
  let svc: LocalKvs;
  let dataDir: string;
  let work: string;
  beforeAll(async () => {
    ({ svc, dataDir } = await startTestService({ turn: false }));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-cli-media-'));
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    removeDir(dataDir);
    removeDir(work);
  });

  it('the viewer saves what the master streams from --video, frame for frame', async () => {
    // A clip of its own: the samples' second GOP (frames 26-75), renumbered from 1.
    const clip = path.join(work, 'clip');
    fs.mkdirSync(clip);
    const frames = h264Samples(75).slice(25);
    frames.forEach((f, i) =>
      fs.writeFileSync(path.join(clip, `frame-${String(i + 1).padStart(4, '0')}.h264`), f),
    );
    const env = cleanEnv({
      AWS_ACCESS_KEY_ID: svc.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: svc.credentials.secretAccessKey,
      AWS_KVS_CACERT_PATH: svc.caCertPath,
    });
    const master = cliAsync(
      ['master', 'cli-media', '--endpoint', svc.endpoint, '--video', clip, '--duration', '12'],
      {
        env,
        timeoutMs: 60_000,
      },
    );
    // The viewer comes once the master is on the channel (it created it).
    const save = path.join(work, 'saved');
    let viewer: Awaited<ReturnType<typeof cliAsync>> | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      viewer = await cliAsync(
        [
          'viewer',
          'cli-media',
          '--endpoint',
          svc.endpoint,
          '--save',
          save,
          '--duration',
          '4',
          '--frames',
        ],
        {
          env,
          timeoutMs: 60_000,
        },
      );
      if (!/does not exist/.test(viewer.stderr)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const m = await master;
    expect(viewer?.stdout, viewer?.stderr).toMatch(/Connection established in \d+\.\d ms/);
    expect(viewer?.stdout).toMatch(/video frame of size \d+ received/);
    expect(m.stdout, m.stderr).toMatch(/viewer viewer-\w+: Connection established/);
    expect(m.stdout).toMatch(/message from viewer-\w+: hello from kvs-webrtc viewer/);
    expect(viewer?.stdout).toMatch(/message from the master: hello from kvs-webrtc viewer/);
    expect(viewer?.status).toBe(0);

    const saved = readFrameDir(path.join(save, 'video'));
    expect(saved.codec).toBe('H264');
    expect(saved.frames.length).toBeGreaterThan(50);
    expect(saved.frames[0]?.key).toBe(true);
    // Every saved frame is one of the clip's, in the clip's order (looping).
    const clipNals = frames.map((f) => carriedNals(f).join());
    const at = clipNals.indexOf(carriedNals(saved.frames[0]?.data as Buffer).join());
    expect(at).toBeGreaterThanOrEqual(0);
    saved.frames.forEach((f, i) => {
      expect(carriedNals(f.data).join(), `saved frame ${i}`).toBe(
        clipNals[(at + i) % clipNals.length],
      );
    });
    expect(readFrameDir(path.join(save, 'audio')).frames.length).toBeGreaterThan(100);
  }, 90_000);
});
