/** `kvs-webrtc nat <stun-url>`: NAT mapping and filtering discovery (RFC 5780). */
import { KvsError } from '../errors.js';
import { discoverNatBehavior } from '../nat/discover.js';
import { applyLogLevel, CliError, parse, str } from './common.js';

export const NAT_USAGE = `usage: kvs-webrtc nat <stun-url> [options]

Discovers the behaviour of the NAT between this host and a STUN server, per RFC 5780 (the C
SDK's discoverNatBehavior): its mapping (does a socket keep its public address towards every
destination?) and its filtering (who may send to that address?). The server must implement
RFC 5780 with two addresses, such as coturn started with two --listening-ip.

  kvs-webrtc nat stun:stun.example.org:3478

Mapping and filtering are each endpoint-independent, address-dependent or
address-and-port-dependent. Two peers behind address-and-port-dependent mapping NATs need TURN.

options:
  --local-address <ip>  send from this IPv4 address (default: the route's)
  --json                print the result as one JSON line
  --log-level <level>   1-7 or verbose, debug, info, warn, error, fatal, silent
  -h, --help            this text
`;

const ADVICE: Record<string, string> = {
  'endpoint-independent': 'peers can reach this host directly once it has sent to anyone',
  'address-dependent': 'a peer can reach this host after it has sent to that peer',
  'address-and-port-dependent':
    'a peer can reach this host only from the exact address and port it sent to',
};

export async function runNatCommand(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      'local-address': { type: 'string' },
      json: { type: 'boolean' },
      'log-level': { type: 'string' },
    },
    NAT_USAGE,
    'nat',
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const url = positionals[0];
  if (!url || positionals.length > 1) {
    throw new CliError(`kvs-webrtc nat: give one STUN URL\n\n${NAT_USAGE}`, 2);
  }
  applyLogLevel(values['log-level']);
  const localAddress = str(values['local-address']);
  let r;
  try {
    r = await discoverNatBehavior(url, localAddress ? { localAddress } : {});
  } catch (e) {
    if (e instanceof KvsError && e.code === 'ERR_INVALID_ARGUMENT')
      throw new CliError(e.message, 2);
    throw e;
  }
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  process.stdout.write(
    [
      `STUN server ${r.server.primary.address}:${r.server.primary.port} (other address ${r.server.other.address}:${r.server.other.port})`,
      `local ${r.local.address}:${r.local.port}, mapped ${r.mapped.address}:${r.mapped.port}: ${r.natDetected ? 'behind a NAT' : 'no NAT on the way'}`,
      `mapping:   ${r.natDetected ? r.mapping : 'none (not behind a NAT)'} (${r.cSdk.mapping})`,
      `filtering: ${r.filtering} (${r.cSdk.filtering}): ${ADVICE[r.filtering] ?? ''}`,
      '',
    ].join('\n'),
  );
  return 0;
}
