#!/usr/bin/env node
/**
 * The `kvs-webrtc` command. Each subcommand is loaded on demand, so `--help` and `versions`
 * start fast; each has its own `--help`.
 */
import { KvsError } from './errors.js';
import { selfTest } from './self-test.js';
import { versions } from './versions.js';

const USAGE = `usage: kvs-webrtc <command> [options]     (kvs-webrtc <command> --help for each)

commands:
  demo               everything on this machine, no AWS account: the local KVS service with
                     coturn, a master streaming the sample video and audio, native viewers, a
                     live status line and a summary; prints the URL of a viewer web page
  master <channel>   stream frame directories (default: the samples) to every viewer of a
                     channel, on AWS (region and credentials as the AWS CLI) or --endpoint
  viewer <channel>   join a channel as a viewer; report, or --save, what the master sends
  smoke <channel>    CI smoke test: frames both ways, a data-channel round trip, sane metrics
  nat <stun-url>     NAT mapping and filtering behaviour (RFC 5780)
  local              run the local KVS service in the foreground
  versions           print the linked library versions as JSON
  self-test          run the DTLS-SRTP self-test for every SRTP profile

Logging: --log-level <1-7|verbose|debug|info|warn|error|fatal|silent>, or AWS_KVS_LOG_LEVEL.
`;

function runSelfTest(): void {
  for (const r of selfTest()) {
    console.log(
      `self-test ${r.profile.padEnd(24)} ok: ${r.dtlsVersion} ${r.cipher}, ` +
        `${r.datagrams.clientToServer}+${r.datagrams.serverToClient} datagrams, ` +
        `RTP ${r.srtp.rtpBytes}->${r.srtp.protectedBytes} B, RTCP ${r.srtp.rtcpBytes}->${r.srtp.protectedRtcpBytes} B`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return (await import('./cli/demo.js')).runDemoCommand(rest);
    case 'master':
      return (await import('./cli/master.js')).runMasterCommand(rest);
    case 'viewer':
      return (await import('./cli/viewer.js')).runViewerCommand(rest);
    case 'smoke':
      return (await import('./cli/smoke.js')).runSmokeCommand(rest);
    case 'nat':
      return (await import('./cli/nat.js')).runNatCommand(rest);
    case 'local':
      return (await import('./local/cli.js')).runLocalCommand(rest);
    case 'versions':
      console.log(JSON.stringify(versions(), null, 2));
      return 0;
    case 'self-test':
      runSelfTest();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`kvs-webrtc: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error & { code?: string; exitCode?: number };
    // CliError messages are complete sentences that say what to do; others get their code.
    const text =
      typeof e.exitCode === 'number'
        ? e.message
        : `kvs-webrtc: ${err instanceof KvsError ? `[${err.code}] ` : ''}${e.message}`;
    process.stderr.write(`${text}\n`);
    process.exitCode = typeof e.exitCode === 'number' ? e.exitCode : 1;
  },
);
