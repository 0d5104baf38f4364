// Small process helpers shared by the setup and build scripts (Node built-ins only: these
// run before `npm ci` has installed anything).
import { spawnSync } from 'node:child_process';

/** Runs a command; throws with its captured output when it fails. */
export function run(cmd, args, { cwd, env, quiet = true, input } = {}) {
  const res = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    input,
    encoding: 'utf8',
    stdio: quiet ? ['pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.error) throw new Error(`${cmd}: ${res.error.message}`);
  if (res.status !== 0) {
    // The tail is where compilers and npm say what went wrong.
    const tail = `${res.stdout ?? ''}${res.stderr ?? ''}`.trimEnd().split('\n').slice(-40);
    const out = quiet ? `\n${tail.join('\n')}` : '';
    throw new Error(`command failed (exit ${res.status}): ${cmd} ${args.join(' ')}${out}`);
  }
  return res.stdout ?? '';
}

/** True when the command exists on PATH. */
export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function log(msg) {
  process.stderr.write(`[kvs-webrtc] ${msg}\n`);
}
