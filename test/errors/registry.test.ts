// The error-code registry (lib/error-codes.ts) against the code that raises the codes: the
// native core's string literals (binding/**/*.{cc,h}: the C++ header of codes, when it lands,
// is made of such literals too), the facade's (lib/**/*.ts), and the READMEs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isKvsErrorCode, type KvsErrorCode } from '../../lib/error-codes.js';
import { ROOT } from '../helpers/root.js';

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out.sort();
}

/** Every match of `re` (global, one capture group) in `files`, with where it was found. */
function matches(files: string[], re: RegExp): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(re)) {
      const code = m[1] as string;
      const line = text.slice(0, m.index).split('\n').length;
      const where = `${path.relative(ROOT, file)}:${line}`;
      found.set(code, [...(found.get(code) ?? []), where]);
    }
  }
  return found;
}

const BINDING = filesUnder(path.join(ROOT, 'binding'), (f) => /\.(cc|h)$/.test(f));
const LIB = filesUnder(path.join(ROOT, 'lib'), (f) => f.endsWith('.ts'));
const REGISTRY_FILE = path.join(ROOT, 'lib', 'error-codes.ts');
const LIB_CODE = LIB.filter((f) => f !== REGISTRY_FILE);

const codes = Object.keys(ERROR_CODES) as KvsErrorCode[];
const raisedBy = (from: 'native' | 'ts') =>
  codes.filter((c) => ERROR_CODES[c].from === from || ERROR_CODES[c].from === 'both').sort();

describe('the error-code registry', () => {
  it('is frozen, spelled ERR_<AREA>_<WHAT> without a KVS_ infix, one line per meaning', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    expect(codes.length).toBeGreaterThan(20);
    for (const code of codes) {
      const info = ERROR_CODES[code];
      expect(Object.isFrozen(info), code).toBe(true);
      expect(code, code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(code, code).not.toMatch(/^ERR_KVS_/);
      expect(['native', 'ts', 'both'], code).toContain(info.from);
      expect(info.meaning, code).toMatch(/^[^\n|]{10,120}$/);
    }
    expect(isKvsErrorCode('ERR_INVALID_ARGUMENT')).toBe(true);
    expect(isKvsErrorCode('ERR_KVS_INVALID_ARGUMENT')).toBe(false);
    expect(isKvsErrorCode('toString')).toBe(false);
  });

  it('holds exactly the codes the native core raises (string literals in binding/)', () => {
    expect(BINDING.length).toBeGreaterThan(20);
    const native = matches(BINDING, /"(ERR_[A-Z0-9_]+)"/g);
    const inBinding = [...native.keys()].sort();
    const unregistered = inBinding.filter((c) => !isKvsErrorCode(c));
    expect(unregistered, `binding codes missing from lib/error-codes.ts`).toEqual([]);
    const stale = raisedBy('native').filter((c) => !native.has(c));
    expect(stale, `registered as native but absent from binding/`).toEqual([]);
    // A code marked TypeScript-only must not be raised natively.
    const tsOnly = codes.filter((c) => ERROR_CODES[c].from === 'ts' && native.has(c));
    expect(tsOnly, 'marked ts but found in binding/ (mark them both)').toEqual([]);
  });

  it('holds every code named in lib/, and each TypeScript code is raised there', () => {
    // The registry's own comments and its key type (`ERR_${string}`) are not codes.
    const named = matches(LIB_CODE, /\b(ERR_[A-Z0-9_]*)/g);
    const unknown = [...named].filter(([c]) => !isKvsErrorCode(c)).map(([c, w]) => `${c} ${w[0]}`);
    expect(unknown, 'ERR_ names in lib/ that are not registry keys').toEqual([]);
    const quoted = matches(LIB_CODE, /['"`](ERR_[A-Z0-9_]+)['"`]/g);
    const unused = raisedBy('ts').filter((c) => !quoted.has(c));
    expect(unused, 'registered as raised by TypeScript, but never used in lib/').toEqual([]);
  });

  it('has no code assembled at run time in lib/', () => {
    const assembled: string[] = [];
    for (const file of LIB_CODE) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(ROOT, file);
      // `ERR_FOO_${x}`, 'ERR_FOO_' + x, x + '_FOO', or a code prefix kept for later.
      for (const re of [
        /ERR_[A-Z0-9_]*\$\{/g,
        /['"`]ERR_[A-Z0-9_]*['"`]\s*\+/g,
        /['"`]ERR_[A-Z0-9_]*_['"`]/g,
        /\+\s*['"`]_?[A-Z0-9]+(_[A-Z0-9]+)*['"`]/g,
      ]) {
        for (const m of text.matchAll(re)) assembled.push(`${rel}: ${m[0]}`);
      }
    }
    expect(assembled).toEqual([]);
  });

  it('is what the README table lists (node scripts/error-table.mjs)', async () => {
    // The script's module is ESM; this suite compiles to CommonJS, hence the dynamic import.
    const { formatTable, loadRegistry, readSection } =
      await import('../../scripts/lib/error-table.mjs');
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    // The script loads the registry from source on its own; it must see the same registry.
    const loaded = loadRegistry(ROOT);
    expect(Object.keys(loaded)).toEqual(codes);
    expect(readSection(readme)).toBe(formatTable(ERROR_CODES));
  });

  it('is the only spelling the READMEs use', () => {
    const docs = [
      path.join(ROOT, 'README.md'),
      ...filesUnder(path.join(ROOT, 'lib'), (f) => f.endsWith('.md')),
    ];
    const named = matches(docs, /\b(ERR_[A-Z0-9_]*[A-Z0-9])\b/g);
    const unknown = [...named].filter(([c]) => !isKvsErrorCode(c)).map(([c, w]) => `${c} ${w[0]}`);
    expect(unknown).toEqual([]);
  });
});
