// A vitest reporter beside the default one: it says when each file starts, and stops a file
// that runs far past any file's normal time. With one worker on a 2-core machine a file that
// hangs (a blocked event loop cannot run its own test timeouts) otherwise holds the run
// silently until the CI limit ends it. Before stopping it, it prints what was running: the
// file, its last test to start, the process tree and, where gdb is installed, every thread's
// native stack of the stuck workers.
import { execFileSync } from 'node:child_process';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** Several times the slowest file (about 60 s on a loaded 2-core machine). */
const FILE_BOUND_MS = Number(process.env.KVS_TEST_FILE_BOUND_MS ?? 8 * 60_000);
const CHECK_EVERY_MS = 15_000;

interface Running {
  readonly started: number;
  lastCase?: string;
  reported: boolean;
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    return `(${cmd} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

/** This process's descendants, for `ps -p`. */
function descendants(): number[] {
  const parentOf = new Map<number, number>();
  for (const line of tryRun('ps', ['-eo', 'pid=,ppid=']).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) parentOf.set(pid, ppid);
  }
  const isOurs = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  return [...parentOf.keys()].filter(isOurs);
}

/** The worker processes: this process's children that run node. */
function workerPids(): number[] {
  const out = tryRun('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && /^\d+$/.test(pid) && comm === 'node')
    .map(([pid]) => Number(pid));
}

export default class ProgressReporter implements Reporter {
  readonly #running = new Map<string, Running>();
  #timer: NodeJS.Timeout | undefined;

  onTestRunStart(): void {
    this.#timer = setInterval(() => this.#check(), CHECK_EVERY_MS);
    this.#timer.unref();
  }

  onTestModuleStart(module: TestModule): void {
    this.#running.set(module.moduleId, { started: Date.now(), reported: false });
    process.stdout.write(`[${clock()}] start ${module.relativeModuleId}\n`);
  }

  onTestCaseReady(test: TestCase): void {
    const r = this.#running.get(test.module.moduleId);
    if (r) r.lastCase = test.fullName;
  }

  onTestModuleEnd(module: TestModule): void {
    this.#running.delete(module.moduleId);
  }

  onTestRunEnd(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #check(): void {
    const now = Date.now();
    const stuck = [...this.#running.entries()].filter(
      ([, r]) => !r.reported && now - r.started > FILE_BOUND_MS,
    );
    if (stuck.length === 0) return;
    const lines: string[] = [];
    for (const [id, r] of stuck) {
      r.reported = true;
      lines.push(
        `[${clock()}] STUCK: ${id} has run ${Math.round((now - r.started) / 1000)} s ` +
          `(bound ${FILE_BOUND_MS / 1000} s); last test started: ${r.lastCase ?? '(none)'}`,
      );
    }
    const ours = [process.pid, ...descendants()].join(',');
    lines.push(tryRun('ps', ['-o', 'pid,ppid,stat,etime,time,args', '--forest', '-p', ours]));
    const pids = workerPids();
    const gdb = tryRun('sh', ['-c', 'command -v gdb']).trim();
    for (const pid of pids) {
      if (gdb.startsWith('/')) {
        lines.push(`native stacks of worker ${pid}:`);
        lines.push(tryRun(gdb, ['-p', String(pid), '-batch', '-ex', 'thread apply all bt 30']));
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    // A stopped worker fails its file and the run goes on to end by itself.
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
