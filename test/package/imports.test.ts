// The shape of lib/'s import graph: no cycles (type-only imports included, as they still tie
// two modules' designs together), and the layering the design promises.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';

const LIB = path.join(ROOT, 'lib');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative specifiers of `import ... from`, `export ... from` and `import(...)`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g))
    specs.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => {
      const base = path.resolve(path.dirname(file), s);
      const candidates = [base.replace(/\.js$/, '.ts'), path.join(base, 'index.ts')];
      const hit = candidates.find((c) => existsSync(c));
      if (!hit) throw new Error(`${path.relative(ROOT, file)}: cannot resolve ${s}`);
      return hit;
    });
}

const graph = new Map(tsFiles(LIB).map((f) => [f, importsOf(f)]));
const rel = (f: string): string => path.relative(LIB, f);

/** Every cycle found by a depth-first walk, each as the list of modules on it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const to of graph.get(f) ?? []) {
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to].map(rel));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("lib/'s import graph", () => {
  it('is read from every module', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get(path.join(LIB, 'signaling', 'client.ts'))?.length).toBeGreaterThan(5);
  });

  it('has no cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps channel/ below signaling/, and the device entry point free of local/', () => {
    const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => [rel(from), rel(to)]));
    const up = edges.filter(([a, b]) => a?.startsWith('channel/') && b?.startsWith('signaling/'));
    expect(up).toEqual([]);
    // Only the demo (loaded by the CLI on demand) reaches the local service from outside it.
    const intoLocal = edges.filter(
      ([a, b]) => !a?.startsWith('local/') && b?.startsWith('local/') && a !== 'demo.ts',
    );
    expect(intoLocal.filter(([a]) => a !== 'cli.ts')).toEqual([]);
  });
});
