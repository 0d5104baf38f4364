#!/usr/bin/env node
// clang-format over the C++ sources: --check fails on any difference, --fix rewrites.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/paths.mjs';
import { run } from './lib/run.mjs';

function sources(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(cc|h)$/.test(e.name))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

const files = [...sources(path.join(ROOT, 'binding')), ...sources(path.join(ROOT, 'test', 'cpp'))];
const fix = process.argv.includes('--fix');
try {
  run('clang-format', fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files]);
} catch (err) {
  process.stderr.write(`${err.message}\n${fix ? '' : 'Run `npm run format` to fix.\n'}`);
  process.exit(1);
}
