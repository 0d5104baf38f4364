/**
 * Runs the service's CLI (`runLocalCommand`) in a child process, so a test can kill -9 it.
 * The TypeScript sources are transpiled once per run into a temp dir; `NODE_PATH` points the
 * child at the repository's node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
  mkdirSync(join(out, 'local'));
  const src = join(REPO, 'lib', 'local');
  for (const f of readdirSync(src).filter((x) => x.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(join(src, f), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: f,
    }).outputText;
    writeFileSync(join(out, 'local', f.replace(/\.ts$/, '.js')), js);
  }
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
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0 && timer) {
        clearTimeout(timer);
        resolvePromise({
          child,
          info: JSON.parse(out.slice(0, nl)) as ChildService['info'],
          stderr: () => err,
          exited,
        });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? 'signal'}) before printing: ${err}`));
    });
  });
}
