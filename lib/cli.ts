#!/usr/bin/env node
import { selfTest } from './self-test.js';
import { versions } from './versions.js';

const USAGE = `usage: kvs-webrtc <command>

commands:
  demo        a master and a viewer on the embedded local KVS service connect their
              peer connections over loopback (after the native self-test)
  local       run the local KVS service in the foreground (--help for options)
  versions    print the linked library versions as JSON
  self-test   run the DTLS-SRTP self-test for every SRTP profile
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
  const [command] = argv;
  switch (command) {
    case 'demo':
      await (await import('./demo.js')).runDemo();
      return 0;
    case 'versions':
      console.log(JSON.stringify(versions(), null, 2));
      return 0;
    case 'local':
      return (await import('./local/cli.js')).runLocalCommand(argv.slice(1));
    case 'self-test':
      runSelfTest();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`kvs-webrtc: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error & { code?: string };
    process.stderr.write(`kvs-webrtc: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`);
    process.exitCode = 1;
  },
);
