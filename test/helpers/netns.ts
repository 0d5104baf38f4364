import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** The one address of the test host that runInNetns makes. */
export const NETNS_ADDRESS = '10.99.0.1';

/**
 * Runs `node <args>` in a private network namespace whose only interface is a veth pair with
 * 10.99.0.1/24 and a default route (Chromium and libwebrtc never gather loopback, and gather
 * nothing without a route). Nothing sent inside can reach any real interface.
 */
export function runInNetns(
  args: string[],
  timeoutMs: number,
  extraSetup: string[] = [],
): SpawnSyncReturns<string> {
  const setup = [
    // No IPv6 duplicate-address detection: its addresses would turn from tentative to valid a
    // second or two after the links come up, and Chromium aborts a page load on that change
    // (net::ERR_NETWORK_CHANGED, seen under load).
    'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad',
    'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad',
    'ip link set lo up',
    'ip link add kvst0 type veth peer name kvst1',
    `ip addr add ${NETNS_ADDRESS}/24 dev kvst0`,
    'ip link set kvst0 up',
    'ip link set kvst1 up',
    'ip route add default dev kvst0',
    // Shell commands run inside the namespace before the program (iptables rules, say).
    ...extraSetup,
    'exec "$@"',
  ].join(' && ');
  return spawnSync('unshare', ['--net', 'sh', '-c', setup, 'netns', process.execPath, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
}

/** True when this process may make network namespaces (root with CAP_SYS_ADMIN). */
export function canMakeNetns(): boolean {
  return spawnSync('unshare', ['--net', 'true']).status === 0;
}

/** True when the environment says this is CI (`CI=true` or `CI=1`, as CI services set it). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1';
}

/**
 * Whether a namespace suite should skip: on a developer's machine without the privilege it
 * skips, but under CI a missing privilege must not turn tests green, so it throws (and the
 * suite fails at collection, naming the cause).
 */
export function skipWithoutNetns(
  suite: string,
  can: () => boolean = canMakeNetns,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (can()) return false;
  if (isCi(env)) {
    throw new Error(
      `${suite}: CI is set, but network namespaces cannot be made here ` +
        '(the suite needs root with CAP_SYS_ADMIN); refusing to skip it',
    );
  }
  return true;
}
