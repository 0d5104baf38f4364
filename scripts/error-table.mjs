#!/usr/bin/env node
// Writes the README's error-code table from lib/error-codes.ts; `--check` only compares
// (exit 1 when the README is stale).
//   node scripts/error-table.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { formatTable, loadRegistry, readSection, replaceSection } from './lib/error-table.mjs';
import { ROOT } from './lib/paths.mjs';

const readmePath = path.join(ROOT, 'README.md');
const readme = fs.readFileSync(readmePath, 'utf8');
const table = formatTable(loadRegistry(ROOT));
if (process.argv.includes('--check')) {
  if (readSection(readme) !== table) {
    process.stderr.write(
      'README.md: the error-code table is stale; run node scripts/error-table.mjs\n',
    );
    process.exit(1);
  }
} else {
  fs.writeFileSync(readmePath, replaceSection(readme, table));
}
