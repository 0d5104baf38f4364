import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

it('a second build reuses the cached libsrtp2 and usrsctp instead of rebuilding them', () => {
  const script = path.join(ROOT, 'deps', 'build-deps.mjs');
  const first = spawnSync(process.execPath, [script, '--print-prefix'], { encoding: 'utf8' });
  expect(first.status, first.stderr).toBe(0);
  const prefix = first.stdout.trim();
  const libs = ['libsrtp2.a', 'libusrsctp.a'].map((f) => path.join(prefix, 'lib', f));
  const before = libs.map((f) => fs.statSync(f).mtimeMs);

  const second = spawnSync(process.execPath, [script, '--print-prefix'], { encoding: 'utf8' });
  expect(second.status, second.stderr).toBe(0);
  expect(second.stdout.trim()).toBe(prefix);
  expect(second.stderr).not.toMatch(/building|fetching/);
  expect(libs.map((f) => fs.statSync(f).mtimeMs)).toEqual(before);
});
