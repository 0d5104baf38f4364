// Runs the built `kvs-webrtc` command (dist/cli.js, as npm's bin link does) in a clean
// environment: no AWS variables, a temporary HOME, instance metadata off (nothing is asked of
// the network beyond loopback and the namespaces a test makes).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/root.js';

export const CLI = path.join(ROOT, 'dist', 'cli.js');

let home: string | undefined;
export function cleanHome(): string {
  home ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-cli-home-'));
  return home;
}

export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || k === 'HOME' || k === 'CI' || k === 'NODE_EXTRA_CA_CERTS') continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: cleanHome(),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(cleanHome(), 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(cleanHome(), 'no-aws-credentials'),
    ...extra,
  };
}

export function cli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; netns?: string } = {},
): SpawnSyncReturns<string> {
  const command = options.netns
    ? ['ip', ['netns', 'exec', options.netns, process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  return spawnSync(command[0] as string, command[1] as string[], {
    encoding: 'utf8',
    env: options.env ?? cleanEnv(),
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
}

/** The same, asynchronously (for a command that runs beside an in-process service). */
export function cliAsync(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The last line of `text` that parses as a JSON object. */
export function lastJson(text: string): unknown {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON line in:\n${text}`);
  return JSON.parse(line);
}
