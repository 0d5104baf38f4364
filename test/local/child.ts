/**
 * Runs the service's CLI (`runLocalCommand`) in a child process, so a test can kill -9 it.
 * The TypeScript sources (all of lib/) are transpiled once per run into a temp dir; `NODE_PATH` points the
 * child at the repository's node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { removeDir, tempDir } from './helpers.js';

const REPO = resolve(process.cwd());

let built: string | undefined;
let builtDir: string | undefined;

export function cleanupChildBuild(): void {
  if (builtDir) removeDir(builtDir);
  built = undefined;
  builtDir = undefined;
}

export function buildChildEntry(): string {
  if (built) return built;
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string };
  if (pkg.name !== 'kvs-webrtc')
    throw new Error(`tests must run from the repository root, not ${REPO}`);
  const out = tempDir('kvs-local-child-');
  builtDir = out;
  // All of lib/: the service imports the package's shared modules (errors, ws-data).
  const lib = join(REPO, 'lib');
  const transpile = (dir: string): void => {
    mkdirSync(join(out, relative(lib, dir)), { recursive: true });
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const f = join(dir, e.name);
      if (e.isDirectory()) {
        transpile(f);
        continue;
      }
      if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
      const js = ts.transpileModule(readFileSync(f, 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
        fileName: e.name,
      }).outputText;
      writeFileSync(join(out, relative(lib, f)).replace(/\.ts$/, '.js'), js);
    }
  };
  transpile(lib);
  const entry = join(out, 'entry.js');
  writeFileSync(
    entry,
    "require('./local/cli.js').runLocalCommand(process.argv.slice(2)).then(" +
      '(c) => process.exit(c), (e) => { console.error(e); process.exit(1); });\n',
  );
  built = entry;
  return entry;
}

export interface ChildService {
  child: ChildProcess;
  info: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    caCertPath: string;
    pid: number;
  };
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `kvs-webrtc local --json ...` in a child; resolves with the printed details. */
export function startChild(args: string[], timeoutMs = 30_000): Promise<ChildService> {
  const entry = buildChildEntry();
  const child = spawn(process.execPath, [entry, '--json', ...args], {
    env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolvePromise({
          child,
          info: JSON.parse(out.slice(0, nl)) as ChildService['info'],
          stderr: () => err,
          exited,
        });
      }
    });
    // `exited` never rejects: it settles on the child's exit event.
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? 'signal'}) before printing: ${err}`));
    });
  });
}

export interface ScriptChild {
  child: ChildProcess;
  info: { endpoint: string; turn: { uris: string[] } | null; pid: number };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a plain script that calls `startLocalKvs({ turn: true })` and installs no signal
 * handlers of its own (unlike the CLI), as an application embedding the service would.
 */
export function startScriptChild(dataDir: string, timeoutMs = 30_000): Promise<ScriptChild> {
  const entry = join(dirname(buildChildEntry()), 'script-entry.js');
  writeFileSync(
    entry,
    "require('./local/service.js').startLocalKvs({ port: 0, dataDir: process.argv[2], turn: true, log: () => {} }).then(" +
      '(svc) => process.stdout.write(JSON.stringify({ endpoint: svc.endpoint, turn: svc.turn ?? null, pid: process.pid }) + "\\n"),' +
      ' (e) => { console.error(e); process.exit(1); });\n',
  );
  const child = spawn(process.execPath, [entry, dataDir], {
    env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`script did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolvePromise({
          child,
          info: JSON.parse(out.slice(0, nl)) as ScriptChild['info'],
          exited,
        });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`script exited (${code ?? 'signal'}) before printing: ${err}`));
    });
  });
}
