#!/usr/bin/env node
// The answering, receiving peer of a bench/datachannel.mjs pair, in its own process (forked
// by the benchmark, so in its network namespace too). Signaling and commands come over the
// IPC channel; it reports channels as they are announced and each transfer once complete,
// with the CPU its process used meanwhile (process.cpuUsage: every thread).
//   (forked) dc-peer.mjs <stack> <address> '<options json>'
import { performance } from 'node:perf_hooks';
import { DC_STACKS } from './dc-stacks.mjs';

const [key, address, optionsJson] = process.argv.slice(2);
const stack = DC_STACKS[key];
const options = JSON.parse(optionsJson ?? '{}');
const wall = () => performance.timeOrigin + performance.now();
const reply = (msg) => process.send(msg);

const signalListeners = [];
const expecting = new Map(); // label -> { bytes, cpu0 }
const counts = new Map(); // label -> { bytes, messages }

if (stack.prepare) await stack.prepare(address);
const peer = stack.peer(
  address,
  { send: (m) => reply({ sig: m }), onMessage: (f) => signalListeners.push(f) },
  options,
);

peer.onChannel((label, receiver) => {
  reply({ ev: 'announced', label, at: wall() });
  const c = { bytes: 0, messages: 0 };
  counts.set(label, c);
  receiver.onMessage((n) => {
    c.bytes += n;
    c.messages++;
    const e = expecting.get(label);
    if (e && c.bytes >= e.bytes) {
      const cpu = process.cpuUsage(e.cpu0);
      expecting.delete(label);
      reply({
        ev: 'done',
        label,
        bytes: c.bytes,
        messages: c.messages,
        cpuS: (cpu.user + cpu.system) / 1e6,
        at: wall(),
      });
    }
  });
});

process.on('message', async (m) => {
  if (m.sig) for (const f of signalListeners) f(m.sig);
  else if (m.cmd === 'expect') {
    expecting.set(m.label, { bytes: m.bytes, cpu0: process.cpuUsage() });
    reply({ ev: 'expecting', label: m.label });
  } else if (m.cmd === 'bye') {
    await peer.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
reply({ ev: 'ready' });
