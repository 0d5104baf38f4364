import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETNS_ADDRESS, canMakeNetns, runInNetns } from '../helpers/netns.js';
import { ROOT } from '../helpers/root.js';

// An mDNS name nobody answers for, in a private network namespace (the queries stay there).
const script = path.join(ROOT, 'test', 'interop', 'mdns-unresolved.mjs');

describe.skipIf(!canMakeNetns())('an unresolvable .local candidate', () => {
  it('is skipped with a reason after its timeout, and the connection is unharmed', () => {
    const r = runInNetns([script, NETNS_ADDRESS], 90_000);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    const out = JSON.parse(line) as {
      error?: string;
      connectedBeforeSkip?: boolean;
      skipped?: { candidate: string; why: string }[];
      states?: string[];
      finalState?: string;
    };
    expect(out.error).toBeUndefined();
    // The end of candidates came while the name was pending: the connection still came up.
    expect(out.connectedBeforeSkip).toBe(true);
    expect(out.skipped).toHaveLength(1);
    expect(out.skipped?.[0]?.candidate).toContain('0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0.local');
    expect(out.skipped?.[0]?.why).toMatch(/was not resolved within 10000 ms/);
    expect(out.states).not.toContain('failed');
    expect(out.finalState).toBe('connected');
  }, 120_000);
});
