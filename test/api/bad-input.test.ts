// Bad input at the API (issue 14): every public function, constructor and method of
// `kvs-webrtc` and `kvs-webrtc/local`, called with wrong types, out-of-range values and
// oversized inputs. Each row must throw at once or reject with a KvsError whose code is in
// the registry and whose message names the field (and the limit, where there is one): never
// a plain TypeError from deep inside, never a crash. A child process then makes the same
// kinds of failed objects and must exit by itself: a failed constructor or a rejected start
// keeps no native handle, socket or timer alive. Traffic goes to 127.0.0.1 only.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';
import {
  DataChannel,
  FileEndpointCache,
  KvsError,
  Master,
  MemoryEndpointCache,
  PeerConnection,
  SignalingClient,
  Viewer,
  LoopingMediaSource,
  FrameDirWriter,
  dataChannelOnMessage,
  dataChannelOnOpen,
  dataChannelSend,
  discoverNatBehavior,
  fromIotCredentials,
  iotOptionsFromEnv,
  isKvsErrorCode,
  parseStunUrl,
  peerConnectionGetMetrics,
  iceAgentGetMetrics,
  readFrameDir,
  rtcPeerConnectionGetMetrics,
  selfTest,
  signalingClientGetMetrics,
  transceiverOnBandwidthEstimation,
  transceiverOnFrame,
  transceiverOnPictureLoss,
  updateEncoderStats,
  writeFrame,
  writeFrameToMany,
  type KvsErrorCode,
  type StatsReport,
  type Transceiver,
  ViewerSession,
  defaultRegion,
  describeCandidate,
  getStat,
  isKeyFrame,
  sampleTracks,
  statsOfType,
  summarizeStats,
  versions,
} from '../../lib/index.js';
import * as localApi from '../../lib/local/index.js';
import {
  defaultDataDir,
  startLocalKvs,
  viewerPageUrl,
  type LocalKvs,
} from '../../lib/local/index.js';
import { publicApi, type ApiMember } from './exports.js';
import { LOOPBACK, negotiate, trickle, waitForState } from '../helpers/peers.js';

const run = promisify(execFile);

/** One call with bad input: the code it must fail with, and what its message must say. */
interface Row {
  name: string;
  call: () => unknown;
  code?: KvsErrorCode;
  message: RegExp;
}

/** Runs `row.call` and returns its error (thrown at once, or the rejection). */
async function failureOf(row: Row): Promise<unknown> {
  let result: unknown;
  try {
    result = row.call();
  } catch (e) {
    return e;
  }
  if (!(result instanceof Promise)) return new Error(`returned ${String(result)}, did not throw`);
  try {
    await result;
  } catch (e) {
    return e;
  }
  return new Error('resolved, did not reject');
}

async function check(row: Row): Promise<void> {
  const err = await failureOf(row);
  expect(err, `${row.name}: ${String(err)}`).toBeInstanceOf(KvsError);
  const e = err as KvsError;
  expect(isKvsErrorCode(e.code), `${row.name}: ${e.code} is not registered`).toBe(true);
  expect(e.code, `${row.name}: ${e.message}`).toBe(row.code ?? 'ERR_INVALID_ARGUMENT');
  expect(e.message, row.name).toMatch(row.message);
}

/** Every row's name, registered as the file is collected: the coverage check reads them. */
const rowNames: string[] = [];

function table(rows: Row[]): void {
  rowNames.push(...rows.map((r) => r.name));
  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    await check(row);
  });
}

/**
 * A call that must succeed: a method that takes no input called with extra arguments (they
 * are ignored, as JavaScript ignores them), or on a closed object where it is harmless
 * (close() twice, reading figures after close). `expectResult` checks what it gave.
 */
interface Accepted {
  name: string;
  call: () => unknown;
  expectResult: (result: unknown) => void;
}

function accepts(rows: Accepted[]): void {
  rowNames.push(...rows.map((r) => r.name));
  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    row.expectResult(await row.call());
  });
}

/** Any value, typed as whatever the call takes: what a JavaScript caller may pass. */
const bad = (v: unknown): never => v as never;
const big = (n: number): string => 'a'.repeat(n);
const frame = { frameData: Buffer.from([0, 0, 0, 1, 0x65, 0x88]), presentationTs: 0 };

// ---- PeerConnection: the constructor, PeerConnection.create ----

const pcConfigRows: [string, unknown, RegExp][] = [
  ['config null', null, /config must be an object/],
  ['config a string', 'stun:x', /config must be an object/],
  ['iceServers not an array', { iceServers: {} }, /iceServers must be an array/],
  [
    'iceServers over the limit',
    { iceServers: Array.from({ length: 22 }, () => ({ urls: 'stun:127.0.0.1' })) },
    /iceServers has 22 entries; at most 21/,
  ],
  ['iceServers[0] null', { iceServers: [null] }, /iceServers\[0\] must be an object/],
  ['iceServers[0].urls a number', { iceServers: [{ urls: 5 }] }, /iceServers\[0\]\.urls/],
  ['iceServers[0].urls empty', { iceServers: [{ urls: [] }] }, /iceServers\[0\]\.urls is empty/],
  ['iceServers[0].urls http:', { iceServers: [{ urls: 'http://x' }] }, /iceServers\[0\]\.urls/],
  [
    'iceServers[0].urls port 0',
    { iceServers: [{ urls: 'stun:127.0.0.1:0' }] },
    /iceServers\[0\]\.urls.*port must be 1\.\.65535/,
  ],
  [
    'iceServers[0].urls port 65536',
    { iceServers: [{ urls: 'stun:127.0.0.1:65536' }] },
    /port must be 1\.\.65535/,
  ],
  [
    'TURN without credentials',
    { iceServers: [{ urls: 'turn:127.0.0.1' }] },
    /iceServers\[0\].*needs username and credential/,
  ],
  [
    'TURN username a number',
    { iceServers: [{ urls: 'turn:127.0.0.1', username: 5, credential: 'c' }] },
    /iceServers\[0\]\.username must be a string/,
  ],
  [
    'TURN credential an object',
    { iceServers: [{ urls: 'turn:127.0.0.1', username: 'u', credential: {} }] },
    /iceServers\[0\]\.credential must be a string/,
  ],
  [
    'ICE server host that needs DNS',
    { iceServers: [{ urls: 'stun:stun.example.invalid' }] },
    /host stun\.example\.invalid needs DNS/,
  ],
  ['iceTransportPolicy unknown', { iceTransportPolicy: 'none' }, /iceTransportPolicy must be/],
  ['interfaces a string', { interfaces: 'lo' }, /interfaces must be an object/],
  ['interfaces.only a string', { interfaces: { only: 'lo' } }, /interfaces\.only must be/],
  [
    'interfaces.allowLoopback a string',
    { interfaces: { allowLoopback: 'yes' } },
    /interfaces\.allowLoopback must be a boolean/,
  ],
  ['interfaces.ipv6 a number', { interfaces: { ipv6: 1 } }, /interfaces\.ipv6 must be a boolean/],
  ['timeouts a number', { timeouts: 5 }, /timeouts must be an object/],
  [
    'timeouts.failed 0',
    { timeouts: { failed: 0 } },
    /timeouts\.failed must be an integer number of milliseconds in 1\.\.3600000/,
  ],
  [
    'timeouts.nomination over 1 h',
    { timeouts: { nomination: 3_600_001 } },
    /timeouts\.nomination .*1\.\.3600000/,
  ],
  [
    'timeouts.connectionCheck a string',
    { timeouts: { connectionCheck: '100' } },
    /timeouts\.connectionCheck/,
  ],
  ['dataChannels a string', { dataChannels: 'big' }, /dataChannels must be an object/],
  [
    'dataChannels.maxMessageSize 1023',
    { dataChannels: { maxMessageSize: 1023 } },
    /dataChannels\.maxMessageSize must be an integer number of bytes in 1024\.\.1073741824/,
  ],
  [
    'dataChannels.maxMessageSize 2^30 + 1',
    { dataChannels: { maxMessageSize: 2 ** 30 + 1 } },
    /dataChannels\.maxMessageSize .*1024\.\.1073741824/,
  ],
  [
    'dataChannels.maxMessageSize 1.5 KiB',
    { dataChannels: { maxMessageSize: 1536.5 } },
    /dataChannels\.maxMessageSize/,
  ],
  ['mdnsHostCandidates a string', { mdnsHostCandidates: 'yes' }, /mdnsHostCandidates/],
  ['turnCaCertPath a number', { turnCaCertPath: 5 }, /turnCaCertPath must be a path/],
  ['certificate a string', { certificate: 'pem' }, /certificate must be an object/],
  [
    'certificate without the key',
    { certificate: { certificatePem: 'x' } },
    /certificate needs certificatePem and privateKeyPem/,
  ],
];

describe('PeerConnection configuration', () => {
  table(
    pcConfigRows.map(([name, config, message]) => ({
      name: `new PeerConnection: ${name}`,
      call: () => new PeerConnection(bad(config)),
      message,
    })),
  );
  // create() validates before it resolves a name: no DNS query for a bad configuration.
  table(
    pcConfigRows
      .filter(([name]) => !name.includes('DNS'))
      .map(([name, config, message]) => ({
        name: `PeerConnection.create: ${name}`,
        call: () => PeerConnection.create(bad(config)),
        message,
      })),
  );
  // Only the native side reads the PEM: it refuses with its own registered code.
  const notPem = (size: number) => ({
    ...LOOPBACK,
    certificate: { certificatePem: big(size), privateKeyPem: big(size) },
  });
  table([
    {
      name: 'new PeerConnection: certificate not PEM',
      call: () => new PeerConnection(notPem(10)),
      code: 'ERR_DTLS_CERTIFICATE',
      message: /PeerConnection: reading the certificate PEM/,
    },
    {
      name: 'new PeerConnection: certificate of 1 MB',
      call: () => new PeerConnection(notPem(1 << 20)),
      code: 'ERR_DTLS_CERTIFICATE',
      message: /PeerConnection: reading the certificate PEM/,
    },
  ]);
});

// ---- PeerConnection methods, Transceiver, DataChannel before open ----

describe('PeerConnection methods', () => {
  let pc: PeerConnection;
  let closed: PeerConnection;
  let t: Transceiver;
  let dc: DataChannel;
  beforeAll(async () => {
    pc = new PeerConnection(LOOPBACK);
    t = await pc.addTransceiver('video');
    dc = pc.createDataChannel('before-open');
    closed = new PeerConnection(LOOPBACK);
    await closed.close();
  });
  afterAll(async () => {
    await pc.close();
  });

  const desc = (call: 'setLocalDescription' | 'setRemoteDescription'): Row[] => [
    { name: `${call}(undefined)`, call: () => pc[call](bad(undefined)), message: /description/ },
    { name: `${call}(null)`, call: () => pc[call](bad(null)), message: /description/ },
    {
      name: `${call} type pranswer`,
      call: () => pc[call](bad({ type: 'pranswer', sdp: 'v=0' })),
      message: /type must be "offer" or "answer"/,
    },
    {
      name: `${call} sdp a number`,
      call: () => pc[call](bad({ type: 'offer', sdp: 5 })),
      message: /sdp must be a non-empty string/,
    },
    {
      name: `${call} sdp empty`,
      call: () => pc[call]({ type: 'offer', sdp: '' }),
      message: /sdp must be a non-empty string/,
    },
    {
      name: `${call} sdp over 25000 characters`,
      call: () => pc[call]({ type: 'offer', sdp: `v=0\r\n${big(25_000)}` }),
      message: /sdp has 25005 characters; the limit is 25000/,
    },
  ];

  table([
    ...desc('setLocalDescription'),
    ...desc('setRemoteDescription'),
    {
      name: 'setRemoteDescription of text that is not SDP',
      call: () => pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\n' }),
      code: 'ERR_SDP_MALFORMED',
      message: /setRemoteDescription: SDP has no o= line/,
    },
    {
      name: 'addIceCandidate(undefined)',
      call: () => pc.addIceCandidate(bad(undefined)),
      message: /addIceCandidate: pass a candidate/,
    },
    {
      name: 'addIceCandidate(5)',
      call: () => pc.addIceCandidate(bad(5)),
      message: /addIceCandidate: candidate must be a string/,
    },
    {
      name: 'addIceCandidate({ candidate: 5 })',
      call: () => pc.addIceCandidate(bad({ candidate: 5 })),
      message: /addIceCandidate: candidate must be a string/,
    },
    {
      name: 'addIceCandidate of 1 MB before a remote description',
      call: () => pc.addIceCandidate(`candidate:${big(1 << 20)}`),
      message: /addIceCandidate before setRemoteDescription/,
      code: 'ERR_INVALID_STATE',
    },
    {
      name: 'addTransceiver(undefined)',
      call: () => pc.addTransceiver(bad(undefined)),
      message: /addTransceiver: init must be/,
    },
    {
      name: 'addTransceiver(null)',
      call: () => pc.addTransceiver(bad(null)),
      message: /addTransceiver: init must be/,
    },
    {
      name: 'addTransceiver("data")',
      call: () => pc.addTransceiver(bad('data')),
      message: /addTransceiver: kind must be "audio" or "video", got "data"/,
    },
    {
      name: 'addTransceiver audio with H264',
      call: () => pc.addTransceiver({ kind: 'audio', codecs: ['H264'] }),
      message: /addTransceiver: codecs has "H264"; audio codecs are opus, PCMU, PCMA/,
    },
    {
      name: 'addTransceiver codecs a string',
      call: () => pc.addTransceiver(bad({ kind: 'video', codecs: 'H264' })),
      message: /addTransceiver: codecs must be an array/,
    },
    {
      name: 'addTransceiver direction unknown',
      call: () => pc.addTransceiver(bad({ kind: 'video', direction: 'both' })),
      message: /addTransceiver: direction must be one of sendrecv, sendonly, recvonly, inactive/,
    },
    {
      name: 'addTransceiver trackId a number',
      call: () => pc.addTransceiver(bad({ kind: 'video', trackId: 5 })),
      message: /addTransceiver: trackId must be 1-255 characters/,
    },
    {
      name: 'addTransceiver streamId of 1 MB',
      call: () => pc.addTransceiver({ kind: 'video', streamId: big(1 << 20) }),
      message: /addTransceiver: streamId must be 1-255 characters/,
    },
    {
      name: 'addTransceiver trackId with a space',
      call: () => pc.addTransceiver({ kind: 'video', trackId: 'a b' }),
      message: /addTransceiver: trackId must be 1-255 characters/,
    },
    {
      name: 'createDataChannel(5)',
      call: () => pc.createDataChannel(bad(5)),
      message: /createDataChannel: label must be a string/,
    },
    {
      name: 'createDataChannel label of 65536 bytes',
      call: () => pc.createDataChannel(big(65_536)),
      message: /createDataChannel: label has 65536 bytes; the limit is 65535/,
    },
    {
      name: 'createDataChannel init null',
      call: () => pc.createDataChannel('x', bad(null)),
      message: /createDataChannel: init must be an object/,
    },
    {
      name: 'createDataChannel protocol a number',
      call: () => pc.createDataChannel('x', bad({ protocol: 5 })),
      message: /createDataChannel: protocol must be a string/,
    },
    {
      name: 'createDataChannel protocol of 65536 bytes',
      call: () => pc.createDataChannel('x', { protocol: '\u00e9'.repeat(32_768) }),
      message: /createDataChannel: protocol has 65536 bytes; the limit is 65535/,
    },
    {
      name: 'createDataChannel maxRetransmits -1',
      call: () => pc.createDataChannel('x', { maxRetransmits: -1 }),
      message: /createDataChannel: maxRetransmits must be an integer 0\.\.65535, got -1/,
    },
    {
      name: 'createDataChannel maxPacketLifeTime 65536',
      call: () => pc.createDataChannel('x', { maxPacketLifeTime: 65_536 }),
      message: /createDataChannel: maxPacketLifeTime must be an integer 0\.\.65535/,
    },
    {
      name: 'createDataChannel both partial-reliability options',
      call: () => pc.createDataChannel('x', { maxPacketLifeTime: 1, maxRetransmits: 1 }),
      message: /maxRetransmits and maxPacketLifeTime cannot both be set/,
    },
    {
      name: 'createDataChannel negotiated without an id',
      call: () => pc.createDataChannel('x', { negotiated: true }),
      message: /createDataChannel: a negotiated channel needs an id/,
    },
    {
      name: 'createDataChannel id 65535',
      call: () => pc.createDataChannel('x', { negotiated: true, id: 65_535 }),
      message: /createDataChannel: id must be an integer 0\.\.65534, got 65535/,
    },
    {
      name: 'createDataChannel ordered a string',
      call: () => pc.createDataChannel('x', bad({ ordered: 'yes' })),
      message: /createDataChannel: ordered must be a boolean/,
    },
    {
      name: 'createDataChannel negotiated a number',
      call: () => pc.createDataChannel('x', bad({ negotiated: 1, id: 1 })),
      message: /createDataChannel: negotiated must be a boolean/,
    },
    {
      name: 'DataChannel.send before open',
      call: () => dc.send('x'),
      code: 'ERR_INVALID_STATE',
      message: /send: data channel "before-open" is connecting, not open/,
    },
    {
      name: 'DataChannel bufferedAmountLowThreshold -1',
      call: () => {
        dc.bufferedAmountLowThreshold = -1;
      },
      message: /bufferedAmountLowThreshold must be an integer 0\.\.67108864, got -1/,
    },
    {
      name: 'DataChannel bufferedAmountLowThreshold over 64 MiB',
      call: () => {
        dc.bufferedAmountLowThreshold = 64 * 1024 * 1024 + 1;
      },
      message: /bufferedAmountLowThreshold must be an integer 0\.\.67108864/,
    },
    {
      name: 'dataChannelSend(null, ...)',
      call: () => dataChannelSend(bad(null), false, 'x'),
      message: /dataChannelSend: channel must be a DataChannel/,
    },
    {
      name: 'dataChannelSend with bytes a number',
      call: () => dataChannelSend(dc, true, bad(5)),
      message: /dataChannelSend: bytes must be a string, Buffer or Uint8Array/,
    },
    {
      name: 'dataChannelOnMessage callback not a function',
      call: () => dataChannelOnMessage(dc, bad('cb')),
      message: /dataChannelOnMessage: callback must be a function/,
    },
    {
      name: 'dataChannelOnOpen(null, cb)',
      call: () => dataChannelOnOpen(bad(null), () => undefined),
      message: /dataChannelOnOpen: channel must be a DataChannel/,
    },
    // Transceiver.
    {
      name: 'writeFrame(undefined)',
      call: () => t.writeFrame(bad(undefined)),
      message: /writeFrame: frame must be an object/,
    },
    {
      name: 'writeFrame frameData a string',
      call: () => t.writeFrame(bad({ frameData: 'abc' })),
      message: /writeFrame: frameData must be a Buffer or Uint8Array/,
    },
    {
      name: 'writeFrame frameData empty',
      call: () => t.writeFrame({ frameData: Buffer.alloc(0) }),
      message: /writeFrame: frameData is empty/,
    },
    {
      name: 'writeFrame flags 16',
      call: () => t.writeFrame({ ...frame, flags: 16 }),
      message: /writeFrame: flags must be FrameFlags \(0\.\.15\), got 16/,
    },
    {
      name: 'writeFrame index -1',
      call: () => t.writeFrame({ ...frame, index: -1 }),
      message: /writeFrame: index must be a uint32, got -1/,
    },
    {
      name: 'writeFrame index 2^32',
      call: () => t.writeFrame({ ...frame, index: 2 ** 32 }),
      message: /writeFrame: index must be a uint32/,
    },
    {
      name: 'writeFrame presentationTs -1',
      call: () => t.writeFrame({ ...frame, presentationTs: -1 }),
      message: /writeFrame: presentationTs must be a non-negative integer .* up to 2\^53 - 1/,
    },
    {
      name: 'writeFrame presentationTs 2^64 as a bigint',
      call: () => t.writeFrame({ ...frame, presentationTs: 2n ** 64n }),
      message: /writeFrame: presentationTs must be .* up to 2\^53 - 1/,
    },
    {
      name: 'writeFrame decodingTs NaN',
      call: () => t.writeFrame({ ...frame, decodingTs: NaN }),
      message: /writeFrame: decodingTs/,
    },
    {
      name: 'writeFrame duration a string',
      call: () => t.writeFrame(bad({ ...frame, duration: '1' })),
      message: /writeFrame: duration/,
    },
    {
      name: 'writeFrame(null, frame)',
      call: () => writeFrame(bad(null), frame),
      message: /writeFrame: transceiver must be a Transceiver/,
    },
    {
      name: 'writeFrameToMany("x", frame)',
      call: () => writeFrameToMany(bad('x'), frame),
      message: /writeFrameToMany: transceivers must be an array of Transceiver/,
    },
    {
      name: 'writeFrameToMany([null], frame)',
      call: () => writeFrameToMany(bad([null]), frame),
      message: /writeFrameToMany: transceivers\[0\] must be a Transceiver/,
    },
    {
      name: 'writeFrameToMany([], a bad frame)',
      call: () => writeFrameToMany([], bad({ frameData: 5 })),
      message: /writeFrame: frameData must be a Buffer or Uint8Array/,
    },
    {
      name: 'configureRollingBuffer seconds 0',
      call: () => t.configureRollingBuffer(0, 1_000_000),
      message: /configureRollingBuffer: seconds must be 0\.1\.\.10, got 0/,
    },
    {
      name: 'configureRollingBuffer seconds a string',
      call: () => t.configureRollingBuffer(bad('1'), 1_000_000),
      message: /configureRollingBuffer: seconds must be 0\.1\.\.10/,
    },
    {
      name: 'configureRollingBuffer bitrate 999',
      call: () => t.configureRollingBuffer(1, 999),
      message: /configureRollingBuffer: bitrateBps must be an integer 1000\.\.1e9, got 999/,
    },
    {
      name: 'updateEncoderStats(null)',
      call: () => t.updateEncoderStats(bad(null)),
      message: /updateEncoderStats: stats must be an object/,
    },
    {
      name: 'updateEncoderStats targetBitrate -1',
      call: () => t.updateEncoderStats({ targetBitrate: -1 }),
      message: /updateEncoderStats: targetBitrate must be a non-negative number/,
    },
    {
      name: 'updateEncoderStats frameWidth a string',
      call: () => t.updateEncoderStats(bad({ frameWidth: '640' })),
      message: /updateEncoderStats: frameWidth must be a non-negative number/,
    },
    {
      name: 'updateEncoderStats encoderImplementation a number',
      call: () => t.updateEncoderStats(bad({ encoderImplementation: 5 })),
      message: /updateEncoderStats: encoderImplementation must be a string/,
    },
    {
      name: 'updateEncoderStats voiceActivityFlag a string',
      call: () => t.updateEncoderStats(bad({ voiceActivityFlag: 'yes' })),
      message: /updateEncoderStats: voiceActivityFlag must be a boolean/,
    },
    {
      name: 'updateEncoderStats(null, stats)',
      call: () => updateEncoderStats(bad(null), {}),
      message: /updateEncoderStats: transceiver must be a Transceiver/,
    },
    {
      name: 'transceiverOnFrame callback not a function',
      call: () => transceiverOnFrame(t, bad(5)),
      message: /transceiverOnFrame: callback must be a function/,
    },
    {
      name: 'transceiverOnPictureLoss(undefined, cb)',
      call: () => transceiverOnPictureLoss(bad(undefined), () => undefined),
      message: /transceiverOnPictureLoss: transceiver must be a Transceiver/,
    },
    {
      name: 'transceiverOnBandwidthEstimation callback null',
      call: () => transceiverOnBandwidthEstimation(t, bad(null)),
      message: /transceiverOnBandwidthEstimation: callback must be a function/,
    },
    // Metrics.
    {
      name: 'rtcPeerConnectionGetMetrics unknown type',
      call: () => rtcPeerConnectionGetMetrics(pc, null, bad('RTC_NOTHING')),
      message: /rtcPeerConnectionGetMetrics: unknown type RTC_NOTHING/,
    },
    {
      name: 'rtcPeerConnectionGetMetrics(null, ...)',
      call: () => rtcPeerConnectionGetMetrics(bad(null), null, 'RTC_ALL'),
      message: /rtcPeerConnectionGetMetrics: pc must be a PeerConnection/,
    },
    {
      name: 'peerConnectionGetMetrics(5)',
      call: () => peerConnectionGetMetrics(bad(5)),
      message: /peerConnectionGetMetrics: pc must be a PeerConnection/,
    },
    {
      name: 'iceAgentGetMetrics(undefined)',
      call: () => iceAgentGetMetrics(bad(undefined)),
      message: /iceAgentGetMetrics: pc must be a PeerConnection/,
    },
    {
      name: 'setConfiguration(null)',
      call: () => pc.setConfiguration(bad(null)),
      message: /setConfiguration: configuration must be an object \{ iceServers \}, got null/,
    },
    {
      name: 'setConfiguration with iceTransportPolicy',
      call: () => pc.setConfiguration(bad({ iceServers: [], iceTransportPolicy: 'relay' })),
      message: /setConfiguration: iceTransportPolicy cannot change; only iceServers can/,
    },
    {
      name: 'setConfiguration with an http URL',
      call: () => pc.setConfiguration({ iceServers: [{ urls: 'http://127.0.0.1' }] }),
      message: /iceServers\[0\]\.urls/,
    },
    {
      name: 'setConfiguration with 22 servers',
      call: () =>
        pc.setConfiguration({ iceServers: Array(22).fill({ urls: 'stun:127.0.0.1' }) as never }),
      message: /iceServers/,
    },
    // A closed connection: the wrong state.
    {
      name: 'setConfiguration after close',
      call: () => closed.setConfiguration({ iceServers: [] }),
      code: 'ERR_INVALID_STATE',
      message: /setConfiguration: the peer connection is closed/,
    },
    ...(['createOffer', 'createAnswer', 'restartIce', 'enableDataChannels'] as const).map(
      (m): Row => ({
        name: `${m} after close`,
        call: () => closed[m](),
        code: 'ERR_INVALID_STATE',
        message: new RegExp(`${m}: the peer connection is closed`),
      }),
    ),
    {
      name: 'createDataChannel after close',
      call: () => closed.createDataChannel('x'),
      code: 'ERR_INVALID_STATE',
      message: /createDataChannel: the peer connection is closed/,
    },
    {
      name: 'addTransceiver with bad init after close',
      call: () => closed.addTransceiver(bad(null)),
      code: 'ERR_INVALID_STATE',
      message: /addTransceiver: the peer connection is closed/,
    },
  ]);

  it('left nothing behind: the connection still works after every bad call', async () => {
    // No bad call made a transceiver or channel, or changed the signaling state.
    expect(pc.getTransceivers()).toHaveLength(1);
    expect(pc.signalingState).toBe('stable');
    const offer = await pc.createOffer();
    expect(offer.sdp).toContain('m=video');
  });
});

// ---- An open data channel: send() with bad and oversized messages ----

describe('DataChannel.send on an open channel', () => {
  let a: PeerConnection;
  let b: PeerConnection;
  let ch: DataChannel;
  let remote: Promise<DataChannel>;
  beforeAll(async () => {
    a = new PeerConnection({ ...LOOPBACK, dataChannels: { maxMessageSize: 4096 } });
    b = new PeerConnection({ ...LOOPBACK, dataChannels: { maxMessageSize: 4096 } });
    trickle(a, b);
    remote = new Promise((resolve) => b.once('datachannel', resolve));
    ch = a.createDataChannel('open');
    const opened = new Promise<void>((resolve) => ch.once('open', resolve));
    await negotiate(a, b);
    await waitForState(a, 'connected');
    await opened;
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  table([
    {
      name: 'send(5)',
      call: () => ch.send(bad(5)),
      message: /send: data must be a string, Buffer, ArrayBuffer or typed array/,
    },
    {
      name: 'send(null)',
      call: () => ch.send(bad(null)),
      message: /send: data must be a string, Buffer, ArrayBuffer or typed array/,
    },
    {
      name: 'send({})',
      call: () => ch.send(bad({})),
      message: /send: data must be/,
    },
    {
      name: "send over the peer's max-message-size",
      call: () => ch.send(Buffer.alloc(4097)),
      code: 'ERR_DATACHANNEL_MESSAGE_TOO_LARGE',
      message: /send: a message of 4097 bytes is over the peer's max-message-size of 4096 bytes/,
    },
    {
      name: 'send text over it (UTF-8 bytes count)',
      call: () => ch.send('\u00e9'.repeat(2049)),
      code: 'ERR_DATACHANNEL_MESSAGE_TOO_LARGE',
      message: /send: a message of 4098 bytes is over .* 4096 bytes/,
    },
  ]);

  it('still carries a message after the bad ones', async () => {
    const other = await remote;
    const got = new Promise<string | Buffer>((resolve) => other.once('message', resolve));
    ch.send('fine');
    expect(String(await got)).toBe('fine');
  });
});

// ---- The signaling client ----

const sig = {
  role: 'MASTER',
  channelName: 'ch',
  region: 'us-west-2',
  credentials: { accessKeyId: 'a', secretAccessKey: 's' },
  reconnect: false,
} as const;

const signalingRows: [string, unknown, RegExp][] = [
  ['options null', null, /role must be MASTER or VIEWER/],
  ['role unknown', { ...sig, role: 'ADMIN' }, /role must be MASTER or VIEWER, got ADMIN/],
  ['no channel', { ...sig, channelName: undefined }, /channelName or channelArn is required/],
  ['channelName a number', { ...sig, channelName: 5 }, /channelName must be 1-256 characters/],
  ['channelName with a slash', { ...sig, channelName: 'a/b' }, /channelName must be 1-256/],
  ['channelName of 257', { ...sig, channelName: big(257) }, /channelName must be 1-256/],
  ['channelArn a number', { ...sig, channelArn: 5 }, /channelArn must be 1-1024 characters/],
  ['channelArn of 1025', { ...sig, channelArn: big(1025) }, /channelArn must be 1-1024/],
  ['region missing', { ...sig, region: undefined }, /region is required/],
  ['region a number', { ...sig, region: 5 }, /region must be/],
  ['region with a slash', { ...sig, region: 'us-west-2/x' }, /region must be/],
  ['viewer without clientId', { ...sig, role: 'VIEWER' }, /clientId must be 1-256 characters/],
  [
    'clientId AWS_',
    { ...sig, role: 'VIEWER', clientId: 'AWS_x' },
    /clientId must not start with "AWS_"/,
  ],
  [
    'clientId of 257',
    { ...sig, role: 'VIEWER', clientId: big(257) },
    /clientId must be 1-256 characters/,
  ],
  [
    'messageTtlSeconds 4',
    { ...sig, messageTtlSeconds: 4 },
    /messageTtlSeconds must be an integer 5-120/,
  ],
  ['messageTtlSeconds 121', { ...sig, messageTtlSeconds: 121 }, /messageTtlSeconds .*5-120/],
  ['retry null', { ...sig, retry: null }, /retry must be an object/],
  ['retry.maxAttempts 0', { ...sig, retry: { maxAttempts: 0 } }, /retry\.maxAttempts must be/],
  ['retry.baseDelayMs NaN', { ...sig, retry: { baseDelayMs: NaN } }, /retry\.baseDelayMs must be/],
  ['pingIntervalMs -1', { ...sig, pingIntervalMs: -1 }, /pingIntervalMs must be/],
  [
    'pingIntervalMs over a timer',
    { ...sig, pingIntervalMs: 2 ** 31 },
    /pingIntervalMs must be .* at most 2147483647/,
  ],
  [
    'connectionLifetimeMs over a timer',
    { ...sig, connectionLifetimeMs: 1e10 },
    /connectionLifetimeMs must be .* at most 2147483647/,
  ],
  [
    'candidateHoldMs over a timer',
    { ...sig, candidateHoldMs: Number.MAX_SAFE_INTEGER },
    /candidateHoldMs must be .* at most 2147483647/,
  ],
  ['timeouts a string', { ...sig, timeouts: 'fast' }, /timeouts must be an object/],
  ['timeouts.connectMs 0', { ...sig, timeouts: { connectMs: 0 } }, /timeouts\.connectMs must be/],
  [
    'timeouts.apiRequestMs over a timer',
    { ...sig, timeouts: { apiRequestMs: 2 ** 32 } },
    /timeouts\.apiRequestMs must be .* at most 2147483647/,
  ],
  ['rates a number', { ...sig, rates: 5 }, /rates must be an object/],
  ['rates.sdpPerSecond 0', { ...sig, rates: { sdpPerSecond: 0 } }, /rates\.sdpPerSecond must be/],
  [
    'maxQueuedMessages 1.5',
    { ...sig, maxQueuedMessages: 1.5 },
    /maxQueuedMessages must be an integer/,
  ],
  [
    'systemClockOffset NaN',
    { ...sig, systemClockOffset: NaN },
    /systemClockOffset must be a finite number/,
  ],
  [
    'credentialRefreshMarginMs -1',
    { ...sig, credentialRefreshMarginMs: -1 },
    /credentialRefreshMarginMs must be/,
  ],
  [
    'cache "disk"',
    { ...sig, cache: 'disk' },
    /cache must be 'memory', false, \{ file \} or an EndpointCache/,
  ],
  ['cache null', { ...sig, cache: null }, /cache must be/],
  ['cache { file: 5 }', { ...sig, cache: { file: 5 } }, /cache must be/],
  [
    'caCertPath missing file',
    { ...sig, caCertPath: '/nonexistent/ca.pem' },
    /caCertPath \/nonexistent\/ca\.pem cannot be read/,
  ],
  ['caCertPath a number', { ...sig, caCertPath: 5 }, /caCertPath must be a path/],
  ['caCert a number', { ...sig, caCert: 5 }, /caCert must be PEM text/],
  ['endpoint not a URL', { ...sig, endpoint: 'not a url' }, /endpoint must be an https:\/\/ URL/],
  [
    'endpoint http:',
    { ...sig, endpoint: 'http://127.0.0.1:1' },
    /endpoint must be an https:\/\/ URL/,
  ],
  ['stunUrl a number', { ...sig, stunUrl: 5 }, /stunUrl must be a stun: URL or null/],
  ['stunUrl turn:', { ...sig, stunUrl: 'turn:127.0.0.1' }, /stunUrl must be a stun: URL or null/],
  ['credentials a string', { ...sig, credentials: 'AKIA' }, /credentials must be/],
  [
    'credentials without the secret',
    { ...sig, credentials: { accessKeyId: 'a' } },
    /credentials must be/,
  ],
  ['logger a string', { ...sig, logger: 'console' }, /logger must be/],
  [
    'createWebSocket not a function',
    { ...sig, createWebSocket: {} },
    /createWebSocket must be a function/,
  ],
];

describe('SignalingClient', () => {
  table(
    signalingRows.map(([name, options, message]) => ({
      name: `new SignalingClient: ${name}`,
      call: () => new SignalingClient(bad(options)),
      message,
    })),
  );

  let master: SignalingClient;
  let viewer: SignalingClient;
  let closed: SignalingClient;
  beforeAll(async () => {
    // No call below reaches the network: each fails before its message is queued.
    master = new SignalingClient({ ...sig, cache: false });
    viewer = new SignalingClient({ ...sig, role: 'VIEWER', clientId: 'v1', cache: false });
    closed = new SignalingClient({ ...sig, cache: false });
    await closed.close();
  });
  afterAll(async () => {
    await Promise.all([master.close(), viewer.close()]);
  });
  const offer = { type: 'offer' as const, sdp: 'v=0\r\n' };
  table([
    {
      name: 'sendSdpOffer(null)',
      call: () => viewer.sendSdpOffer(bad(null)),
      message: /SDP_OFFER payload must be an object/,
    },
    {
      name: 'sendSdpOffer of an answer',
      call: () => viewer.sendSdpOffer(bad({ type: 'answer', sdp: 'v=0' })),
      message: /SDP_OFFER payload\.type must be "offer"/,
    },
    {
      name: 'sendSdpAnswer sdp empty',
      call: () => master.sendSdpAnswer({ type: 'answer', sdp: '' }, 'v1'),
      message: /SDP_ANSWER payload\.sdp must be a non-empty string/,
    },
    {
      name: 'sendSdpOffer over 10,000 base64 characters',
      call: () => viewer.sendSdpOffer({ type: 'offer', sdp: big(8000) }),
      code: 'ERR_SIGNALING_PAYLOAD_TOO_LARGE',
      message: /10000/,
    },
    {
      name: 'sendIceCandidate candidate a number',
      call: () => viewer.sendIceCandidate(bad({ candidate: 5 })),
      message: /ICE_CANDIDATE payload\.candidate must be a string/,
    },
    {
      name: 'a master sending without a recipient',
      call: () => master.sendSdpOffer(offer),
      message: /a MASTER must name the recipient viewer \(recipientClientId\)/,
    },
    {
      name: 'recipientClientId AWS_',
      call: () => master.sendSdpOffer(offer, 'AWS_x'),
      message: /recipientClientId must not start with "AWS_"/,
    },
    {
      name: 'correlationId with a space',
      call: () => viewer.sendSdpOffer(offer, undefined, { correlationId: 'a b' }),
      message: /correlationId must be 1-256 characters/,
    },
    {
      name: 'send options a string',
      call: () => viewer.sendSdpOffer(offer, undefined, bad('fast')),
      message: /options must be an object/,
    },
    {
      name: 'connect with a signal that is not an AbortSignal',
      call: () => viewer.connect(bad('stop')),
      message: /signal must be an AbortSignal/,
    },
    {
      name: 'sendSdpOffer after close',
      call: () => closed.sendSdpOffer(offer),
      code: 'ERR_SIGNALING_CLOSED',
      message: /closed/,
    },
    {
      name: 'connect after close',
      call: () => closed.connect(),
      code: 'ERR_SIGNALING_CLOSED',
      message: /closed/,
    },
    {
      name: 'signalingClientGetMetrics(null)',
      call: () => signalingClientGetMetrics(bad(null)),
      message: /signalingClientGetMetrics: client must be a SignalingClient/,
    },
  ]);
});

// ---- Master and Viewer ----

const session = { channelName: 'ch', region: 'us-west-2', credentials: sig.credentials };
const sessionRows: [string, unknown, RegExp][] = [
  ['options null', null, /options must be an object/],
  ['tracks a string', { ...session, tracks: 'video' }, /tracks must be an array/],
  ['tracks empty', { ...session, tracks: [] }, /tracks is empty/],
  ['tracks[0] null', { ...session, tracks: [null] }, /tracks\[0\] must be \{ kind, codec \}/],
  [
    'tracks[0].kind data',
    { ...session, tracks: [{ kind: 'data', codec: 'H264' }] },
    /tracks\[0\]\.kind must be "video" or "audio"/,
  ],
  [
    'tracks[0].codec opus for video',
    { ...session, tracks: [{ kind: 'video', codec: 'opus' }] },
    /tracks\[0\]\.codec must be one of H264, H265, VP8 for video/,
  ],
  [
    'two video tracks',
    {
      ...session,
      tracks: [
        { kind: 'video', codec: 'H264' },
        { kind: 'video', codec: 'VP8' },
      ],
    },
    /two video tracks/,
  ],
  [
    'tracks[0].trackId a number',
    { ...session, tracks: [{ kind: 'video', codec: 'H264', trackId: 5 }] },
    /tracks\[0\]\.trackId must be 1-255 characters/,
  ],
  ['no channel', { region: 'us-west-2' }, /channelName or channelArn is required/],
  ['region a number', { ...session, region: 5 }, /region must be/],
  [
    'iceTransportPolicy unknown',
    { ...session, iceTransportPolicy: 'turn' },
    /iceTransportPolicy must be "all" or "relay"/,
  ],
  [
    'extraIceServers a string',
    { ...session, extraIceServers: 'stun:127.0.0.1' },
    /extraIceServers must be an array/,
  ],
  [
    'extraIceServers[0] http:',
    { ...session, extraIceServers: [{ urls: 'http://x' }] },
    /iceServers\[0\]\.urls/,
  ],
  [
    'peerConnection a string',
    { ...session, peerConnection: 'fast' },
    /peerConnection must be an object/,
  ],
  [
    'peerConnection.dataChannels.maxMessageSize 1',
    { ...session, peerConnection: { dataChannels: { maxMessageSize: 1 } } },
    /dataChannels\.maxMessageSize must be an integer number of bytes in 1024\.\.1073741824/,
  ],
  [
    'peerConnection.timeouts.failed -1',
    { ...session, peerConnection: { timeouts: { failed: -1 } } },
    /timeouts\.failed/,
  ],
  ['signaling a string', { ...session, signaling: 'x' }, /signaling must be an object/],
  [
    'signaling.pingIntervalMs -1',
    { ...session, signaling: { pingIntervalMs: -1 } },
    /pingIntervalMs must be/,
  ],
  [
    'caCertPath missing file',
    { ...session, caCertPath: '/nonexistent/ca.pem' },
    /caCertPath \/nonexistent\/ca\.pem cannot be read/,
  ],
  ['logger a number', { ...session, logger: 5 }, /logger must be/],
];

describe('Master and Viewer', () => {
  table([
    ...sessionRows.map(([name, options, message]) => ({
      name: `new Master: ${name}`,
      call: () => new Master(bad(options)),
      message,
    })),
    ...sessionRows.map(([name, options, message]) => ({
      name: `new Viewer: ${name}`,
      call: () => new Viewer(bad(options)),
      message,
    })),
    {
      name: 'Viewer iceRestart a string',
      call: () => new Viewer(bad({ ...session, iceRestart: 'yes' })),
      message:
        /Viewer: iceRestart must be false or \{ maxAttempts\?, attemptTimeoutMs\? \}, got "yes"/,
    },
    {
      name: 'Viewer iceRestart.maxAttempts 0',
      call: () => new Viewer({ ...session, iceRestart: { maxAttempts: 0 } }),
      message: /Viewer: iceRestart\.maxAttempts must be an integer from 1 to 100, got 0/,
    },
    {
      name: 'Viewer iceRestart.maxAttempts 1.5',
      call: () => new Viewer({ ...session, iceRestart: { maxAttempts: 1.5 } }),
      message: /iceRestart\.maxAttempts must be an integer from 1 to 100/,
    },
    {
      name: 'Viewer iceRestart.attemptTimeoutMs 999',
      call: () => new Viewer({ ...session, iceRestart: { attemptTimeoutMs: 999 } }),
      message: /Viewer: iceRestart\.attemptTimeoutMs must be a number from 1000 to \d+, got 999/,
    },
    {
      name: 'Master maxViewers 0',
      call: () => new Master({ ...session, maxViewers: 0 }),
      message: /maxViewers must be an integer 1\.\.1000, got 0/,
    },
    {
      name: 'Master maxViewers 1001',
      call: () => new Master({ ...session, maxViewers: 1001 }),
      message: /maxViewers must be an integer 1\.\.1000/,
    },
    {
      name: 'Master candidateHoldMs -1',
      call: () => new Master({ ...session, candidateHoldMs: -1 }),
      message: /candidateHoldMs must be/,
    },
    {
      name: 'Master candidateHoldMs a string',
      call: () => new Master(bad({ ...session, candidateHoldMs: '5' })),
      message: /candidateHoldMs must be/,
    },
    {
      name: 'Master candidateHoldMs over a timer',
      call: () => new Master({ ...session, candidateHoldMs: 2 ** 31 }),
      message: /candidateHoldMs must be a number from 0 to 2147483647/,
    },
    {
      name: 'Master statsIntervalMs 10',
      call: () => new Master({ ...session, statsIntervalMs: 10 }),
      message: /statsIntervalMs must be a number from 50 to 2147483647/,
    },
    {
      name: 'Master statsIntervalMs Infinity',
      call: () => new Master({ ...session, statsIntervalMs: Infinity }),
      message: /statsIntervalMs must be a number from 50 to 2147483647/,
    },
    {
      name: 'Master createIfMissing a string',
      call: () => new Master(bad({ ...session, createIfMissing: 'yes' })),
      message: /createIfMissing must be a boolean/,
    },
    {
      name: 'Viewer direction sendonly',
      call: () => new Viewer(bad({ ...session, direction: 'sendonly' })),
      message: /direction must be "sendrecv" or "recvonly"/,
    },
    {
      name: 'Viewer clientId AWS_',
      call: () => new Viewer({ ...session, clientId: 'AWS_1' }),
      message: /clientId must not start with "AWS_"/,
    },
    {
      name: 'Viewer clientId a number',
      call: () => new Viewer(bad({ ...session, clientId: 7 })),
      message: /clientId must be 1-256 characters/,
    },
    {
      name: 'Viewer connectTimeoutMs -1',
      call: () => new Viewer({ ...session, connectTimeoutMs: -1 }),
      message: /connectTimeoutMs must be/,
    },
    {
      name: 'Viewer connectTimeoutMs NaN',
      call: () => new Viewer({ ...session, connectTimeoutMs: NaN }),
      message: /connectTimeoutMs must be/,
    },
    {
      name: 'Viewer connectTimeoutMs over a timer',
      call: () => new Viewer({ ...session, connectTimeoutMs: 2 ** 31 }),
      message: /connectTimeoutMs must be a number from 1 to 2147483647/,
    },
    {
      name: 'Viewer dataChannel a number',
      call: () => new Viewer(bad({ ...session, dataChannel: 5 })),
      message: /dataChannel must be a label or false/,
    },
    {
      name: 'Viewer dataChannel label of 65536 bytes',
      call: () => new Viewer({ ...session, dataChannel: big(65_536) }),
      message: /dataChannel .*65536 bytes; the limit is 65535/,
    },
  ]);

  let master: Master;
  let viewer: Viewer;
  let closedMaster: Master;
  beforeAll(async () => {
    master = new Master({ ...session, logger: quiet });
    viewer = new Viewer({ ...session, logger: quiet });
    closedMaster = new Master({ ...session, logger: quiet });
    await closedMaster.close();
  });
  afterAll(async () => {
    await Promise.all([master.close(), viewer.close()]);
  });
  table([
    {
      name: 'Master.writeFrame kind data',
      call: () => master.writeFrame(bad('data'), frame),
      message: /writeFrame: kind must be "audio" or "video", got "data"/,
    },
    {
      name: 'Master.writeFrame frameData a number',
      call: () => master.writeFrame('video', bad({ frameData: 5 })),
      message: /writeFrame: frameData must be a Buffer or Uint8Array/,
    },
    {
      name: 'Master.writeFrame flags 99',
      call: () => master.writeFrame('video', { ...frame, flags: 99 }),
      message: /writeFrame: flags must be FrameFlags/,
    },
    {
      name: 'Master.sendMessage(5)',
      call: () => master.sendMessage(bad(5)),
      message: /sendMessage: data must be a string, Buffer or Uint8Array/,
    },
    {
      name: 'Master.sendMessage viewerId a number',
      call: () => master.sendMessage('x', bad(5)),
      message: /sendMessage: viewerId must be 1-256 characters/,
    },
    {
      name: 'Master.start after close',
      call: () => closedMaster.start(),
      code: 'ERR_SESSION_CLOSED',
      message: /Master: closed/,
    },
    {
      name: 'Master.start with a signal that is not an AbortSignal',
      call: () => master.start(bad({})),
      message: /signal must be an AbortSignal/,
    },
    {
      name: 'Viewer.writeFrame kind data',
      call: () => viewer.writeFrame(bad('data'), frame),
      message: /writeFrame: kind must be "audio" or "video", got "data"/,
    },
    {
      name: 'Viewer.writeFrame frame null',
      call: () => viewer.writeFrame('video', bad(null)),
      message: /writeFrame: frame must be an object/,
    },
    {
      name: 'Viewer.sendMessage before connect',
      call: () => viewer.sendMessage('x'),
      code: 'ERR_INVALID_STATE',
      message: /Viewer: sendMessage: no data channel yet \(connect\(\) makes it\)/,
    },
    {
      name: 'Viewer.sendMessage made with dataChannel false',
      call: () => new Viewer({ ...session, dataChannel: false, logger: quiet }).sendMessage('x'),
      code: 'ERR_INVALID_STATE',
      message: /Viewer: sendMessage: made without a data channel \(dataChannel: false\)/,
    },
    {
      name: 'Viewer.connect with a signal that is not an AbortSignal',
      call: () => viewer.connect(bad('x')),
      message: /signal must be an AbortSignal/,
    },
  ]);
});

// ---- Endpoint caches, IoT credentials, NAT discovery, self-test, media helpers ----

const iot = {
  endpoint: 'c.credentials.iot.us-west-2.amazonaws.com',
  roleAlias: 'r',
  thingName: 't',
  certPath: '/nonexistent/cert.pem',
  keyPath: '/nonexistent/key.pem',
};
const entry = {
  channel: 'c',
  role: 'MASTER',
  region: 'r',
  controlEndpoint: '',
  channelArn: 'arn',
  httpsEndpoint: 'https://h',
  wssEndpoint: 'wss://w',
  cachedAt: 0,
};

describe('helpers', () => {
  table([
    {
      name: 'MemoryEndpointCache options a string',
      call: () => new MemoryEndpointCache(bad('x')),
      message: /MemoryEndpointCache: options must be an object/,
    },
    {
      name: 'MemoryEndpointCache ttlMs -1',
      call: () => new MemoryEndpointCache({ ttlMs: -1 }),
      message: /ttlMs must be/,
    },
    {
      name: 'MemoryEndpointCache maxEntries 0',
      call: () => new MemoryEndpointCache({ maxEntries: 0 }),
      message: /maxEntries must be an integer/,
    },
    {
      name: 'MemoryEndpointCache maxEntries 1.5',
      call: () => new MemoryEndpointCache({ maxEntries: 1.5 }),
      message: /maxEntries must be an integer/,
    },
    {
      name: 'MemoryEndpointCache now not a function',
      call: () => new MemoryEndpointCache(bad({ now: 5 })),
      message: /now must be a function/,
    },
    {
      name: 'MemoryEndpointCache.get(null)',
      call: () => new MemoryEndpointCache().get(bad(null)),
      message: /key must be an object/,
    },
    {
      name: 'MemoryEndpointCache.set(null)',
      call: () => new MemoryEndpointCache().set(bad(null)),
      message: /entry must be an object/,
    },
    {
      name: 'MemoryEndpointCache.set cachedAt a string',
      call: () => new MemoryEndpointCache().set(bad({ ...entry, cachedAt: 'now' })),
      message: /entry\.cachedAt must be/,
    },
    {
      name: 'MemoryEndpointCache.set channelArn with a comma',
      call: () => new MemoryEndpointCache().set({ ...entry, channelArn: 'a,b' } as never),
      message: /entry\.channelArn must be a string without commas or line breaks/,
    },
    {
      name: 'MemoryEndpointCache.delete(5)',
      call: () => new MemoryEndpointCache().delete(bad(5)),
      message: /key must be an object/,
    },
    {
      name: 'FileEndpointCache path a number (not a file descriptor)',
      call: () => new FileEndpointCache(bad(0)),
      message: /FileEndpointCache: path must be a non-empty string/,
    },
    {
      name: 'FileEndpointCache path empty',
      call: () => new FileEndpointCache(''),
      message: /FileEndpointCache: path must be a non-empty string/,
    },
    {
      name: 'fromIotCredentials(null)',
      call: () => fromIotCredentials(bad(null)),
      message: /fromIotCredentials: options must be an object/,
    },
    {
      name: 'fromIotCredentials without thingName',
      call: () => fromIotCredentials(bad({ ...iot, thingName: undefined })),
      message: /fromIotCredentials: thingName is required/,
    },
    {
      name: 'fromIotCredentials endpoint with a space',
      call: () => fromIotCredentials({ ...iot, endpoint: 'a b' }),
      message: /IoT credentials endpoint a b is not a host name or URL/,
    },
    {
      name: 'fromIotCredentials maxAttempts a string',
      call: () => fromIotCredentials(bad({ ...iot, maxAttempts: 'x' })),
      message: /fromIotCredentials: maxAttempts must be an integer from 1 to 100/,
    },
    {
      name: 'fromIotCredentials maxAttempts 0',
      call: () => fromIotCredentials({ ...iot, maxAttempts: 0 }),
      message: /fromIotCredentials: maxAttempts must be an integer from 1 to 100/,
    },
    {
      name: 'fromIotCredentials refreshMarginMs -1',
      call: () => fromIotCredentials({ ...iot, refreshMarginMs: -1 }),
      message: /fromIotCredentials: refreshMarginMs must be/,
    },
    {
      name: 'fromIotCredentials requestTimeoutMs 0',
      call: () => fromIotCredentials({ ...iot, requestTimeoutMs: 0 }),
      message: /fromIotCredentials: requestTimeoutMs must be/,
    },
    {
      name: 'fromIotCredentials backoffBaseMs NaN',
      call: () => fromIotCredentials({ ...iot, backoffBaseMs: NaN }),
      message: /fromIotCredentials: backoffBaseMs must be/,
    },
    {
      name: 'fromIotCredentials unreadable certificate',
      call: () => fromIotCredentials(iot)(),
      code: 'ERR_IOT_FILE_UNREADABLE',
      message: /\/nonexistent\/cert\.pem cannot be read/,
    },
    {
      name: 'iotOptionsFromEnv(null)',
      call: () => iotOptionsFromEnv(bad(null)),
      message: /iotOptionsFromEnv: env must be an object/,
    },
    {
      name: 'iotOptionsFromEnv half configured',
      call: () => iotOptionsFromEnv({ AWS_IOT_CORE_THING_NAME: 't' }),
      message: /half configured: set AWS_IOT_CORE_CREDENTIAL_ENDPOINT/,
    },
    { name: 'parseStunUrl(5)', call: () => parseStunUrl(bad(5)), message: /not a STUN URL: 5/ },
    {
      name: 'parseStunUrl("turn:x")',
      call: () => parseStunUrl('turn:x'),
      message: /not a STUN URL: "turn:x"/,
    },
    {
      name: 'parseStunUrl port 65536',
      call: () => parseStunUrl('stun:127.0.0.1:65536'),
      message: /the port must be 1\.\.65535/,
    },
    {
      name: 'parseStunUrl of 1 MB',
      call: () => parseStunUrl(`stun:${big(1 << 20)}`),
      message: /not a STUN URL: its host has 1048576 characters; the limit is 253/,
    },
    {
      name: 'discoverNatBehavior(undefined)',
      call: () => discoverNatBehavior(bad(undefined)),
      message: /not a STUN URL/,
    },
    {
      name: 'discoverNatBehavior options null',
      call: () => discoverNatBehavior('stun:127.0.0.1:9', bad(null)),
      message: /discoverNatBehavior: options must be an object/,
    },
    {
      name: 'discoverNatBehavior giveUpMs -1',
      call: () => discoverNatBehavior('stun:127.0.0.1:9', { giveUpMs: -1 }),
      message: /discoverNatBehavior: giveUpMs must be/,
    },
    {
      name: 'discoverNatBehavior retransmitsMs a string',
      call: () => discoverNatBehavior('stun:127.0.0.1:9', bad({ retransmitsMs: '100' })),
      message: /discoverNatBehavior: retransmitsMs must be an array/,
    },
    {
      name: 'discoverNatBehavior retransmitsMs of 10,000',
      call: () =>
        discoverNatBehavior('stun:127.0.0.1:9', {
          retransmitsMs: Array.from({ length: 10_000 }, (_, i) => i),
        }),
      message: /discoverNatBehavior: retransmitsMs .*at most 20/,
    },
    {
      name: 'discoverNatBehavior localAddress not an address',
      call: () => discoverNatBehavior('stun:127.0.0.1:9', { localAddress: 'eth0' }),
      message: /discoverNatBehavior: localAddress must be an IPv4 address/,
    },
    {
      name: 'selfTest(null)',
      call: () => selfTest(bad(null)),
      message: /selfTest: options must be an object/,
    },
    {
      name: 'selfTest profiles empty',
      call: () => selfTest({ profiles: [] }),
      message: /selfTest: options\.profiles must be a non-empty array/,
    },
    {
      name: 'selfTest profiles unknown',
      call: () => selfTest(bad({ profiles: ['NULL_NULL'] })),
      message: /selfTest: options\.profiles contains unknown profile "NULL_NULL"/,
    },
    {
      name: 'LoopingMediaSource options null',
      call: () => new LoopingMediaSource(bad(null)),
      message: /LoopingMediaSource: options must be an object/,
    },
    {
      name: 'LoopingMediaSource with no track',
      call: () => new LoopingMediaSource({}),
      message: /LoopingMediaSource: give video, audio or both/,
    },
    {
      name: 'LoopingMediaSource video codec opus',
      call: () =>
        new LoopingMediaSource(
          bad({
            video: { codec: 'opus', frames: [{ data: Buffer.from([1]), key: true }], fps: 30 },
          }),
        ),
      message: /LoopingMediaSource: video/,
    },
    {
      name: 'readFrameDir(5)',
      call: () => readFrameDir(bad(5)),
      message: /readFrameDir: dir must be a path/,
    },
    {
      name: 'readFrameDir missing directory',
      call: () => readFrameDir('/nonexistent/frames'),
      code: 'ERR_MEDIA_SOURCE',
      message: /\/nonexistent\/frames/,
    },
    {
      name: 'readFrameDir codec unknown',
      call: () => readFrameDir('/nonexistent/frames', bad('AV1')),
      message: /readFrameDir: codec must be one of/,
    },
    {
      name: 'FrameDirWriter codec unknown',
      call: () => new FrameDirWriter('/nonexistent/out', bad('AV1')),
      message: /FrameDirWriter: codec must be one of/,
    },
    {
      name: 'FrameDirWriter dir a number',
      call: () => new FrameDirWriter(bad(5), 'H264'),
      message: /FrameDirWriter: dir must be a path/,
    },
  ]);
});

// ---- kvs-webrtc/local ----

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('kvs-webrtc/local', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kvs-bad-input-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const local = (o: unknown) => () =>
    startLocalKvs(bad({ turn: false, log: () => undefined, dataDir, ...(o as object) }));
  table([
    {
      name: 'startLocalKvs(null)',
      call: () => startLocalKvs(bad(null)),
      message: /startLocalKvs: options must be an object/,
    },
    {
      name: 'host 0.0.0.0',
      call: local({ host: '0.0.0.0' }),
      message: /host must be "127\.0\.0\.1" or "::1": the local service listens on loopback only/,
    },
    {
      name: 'port -1',
      call: local({ port: -1 }),
      message: /port must be an integer from 0 to 65535, got -1/,
    },
    {
      name: 'port 65536',
      call: local({ port: 65_536 }),
      message: /port must be an integer from 0 to 65535, got 65536/,
    },
    {
      name: 'port a string',
      call: local({ port: '8443' }),
      message: /port must be an integer from 0 to 65535/,
    },
    { name: 'dataDir a number', call: local({ dataDir: 5 }), message: /dataDir must be a path/ },
    { name: 'region with a space', call: local({ region: 'us west' }), message: /region must be/ },
    {
      name: 'accountId 11 digits',
      call: local({ accountId: '12345678901' }),
      message: /accountId must be 12 digits/,
    },
    {
      name: 'accountId a number',
      call: local({ accountId: 123456789012 }),
      message: /accountId must be 12 digits/,
    },
    {
      name: 'turn a string',
      call: local({ turn: 'yes' }),
      message: /turn must be a boolean or \{ binary\?, tls\? \}/,
    },
    { name: 'log a string', call: local({ log: 'stderr' }), message: /log must be a function/ },
    {
      name: 'limits a string',
      call: local({ limits: 'low' }),
      message: /limits must be an object/,
    },
    {
      name: 'limits.maxChannels 0',
      call: local({ limits: { maxChannels: 0 } }),
      message: /limits\.maxChannels must be a positive number, got 0/,
    },
    {
      name: 'limits.maxChanels (a typo)',
      call: local({ limits: { maxChanels: 5 } }),
      message: /limits\.maxChanels is not a limit/,
    },
    {
      name: 'principals a string',
      call: local({ principals: 'admin' }),
      message: /principals must be an array/,
    },
    {
      name: 'iot a string',
      call: local({ iot: 'on' }),
      message: /iot must be a boolean or an object/,
    },
    {
      name: 'viewerPageUrl(5, ...)',
      call: () => viewerPageUrl(bad(5), bad({})),
      message: /viewerPageUrl: endpoint must be/,
    },
    {
      name: 'viewerPageUrl params null',
      call: () => viewerPageUrl('https://127.0.0.1:1', bad(null)),
      message: /viewerPageUrl: .* must be an object/,
    },
  ]);
});

// ---- Methods that take no input, or only look something up (issue 14's gaps) ----
//
// What a caller may expect of them, decided here and in the README: extra arguments are
// ignored (as JavaScript ignores them); close() is idempotent; figures can still be read
// after close (the last ones); anything that would act on a closed object says so with
// ERR_INVALID_STATE (peer connection) or the session's and client's own closed codes.

describe('PeerConnection, Transceiver and DataChannel: no input, or closed', () => {
  let pc: PeerConnection;
  let t: Transceiver;
  let dc: DataChannel;
  let closedPc: PeerConnection;
  let closedT: Transceiver;
  let closedDc: DataChannel;
  beforeAll(async () => {
    pc = new PeerConnection(LOOPBACK);
    t = await pc.addTransceiver('video');
    dc = pc.createDataChannel('to-close');
    dc.close();
    closedPc = new PeerConnection(LOOPBACK);
    closedT = await closedPc.addTransceiver('video');
    closedDc = closedPc.createDataChannel('on-closed');
    await closedPc.close();
  });
  afterAll(async () => {
    await pc.close();
  });
  table([
    {
      name: 'Transceiver.requestKeyFrame after its connection closed',
      call: () => closedT.requestKeyFrame(),
      code: 'ERR_INVALID_STATE',
      message: /requestKeyFrame: the peer connection is closed/,
    },
    {
      name: 'Transceiver.requestKeyFrame before negotiation',
      call: () => t.requestKeyFrame(),
      code: 'ERR_INVALID_STATE',
      message: /requestKeyFrame: .*not negotiated/,
    },
    {
      name: 'DataChannel.send after close()',
      call: () => dc.send('x'),
      code: 'ERR_INVALID_STATE',
      message: /send: data channel "to-close" is clos(ing|ed), not open/,
    },
    {
      name: 'DataChannel.send after its connection closed',
      call: () => closedDc.send('x'),
      code: 'ERR_INVALID_STATE',
      message: /send: data channel "on-closed" is closed, not open/,
    },
  ]);
  accepts([
    {
      name: 'PeerConnection.getTransceivers ignores extra arguments, and answers after close',
      call: () => (closedPc.getTransceivers as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(r).toEqual([closedT]),
    },
    {
      name: 'PeerConnection.getStats after close resolves with the last figures',
      call: () => closedPc.getStats(),
      expectResult: (r) => expect(r).toBeInstanceOf(Map),
    },
    {
      name: 'PeerConnection.close twice resolves',
      call: async () => {
        await closedPc.close();
        return closedPc.connectionState;
      },
      expectResult: (r) => expect(r).toBe('closed'),
    },
    {
      name: 'Transceiver.requestKeyFrame once negotiated and connected resolves',
      call: async () => {
        const a = new PeerConnection(LOOPBACK);
        const b = new PeerConnection(LOOPBACK);
        try {
          trickle(a, b);
          const ta = await a.addTransceiver('video');
          await negotiate(a, b);
          await waitForState(a, 'connected');
          await ta.requestKeyFrame();
          return ta.mid;
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
      expectResult: (r) => expect(typeof r).toBe('string'),
    },
    {
      name: 'Transceiver.getStats after close resolves',
      call: () => closedT.getStats(),
      expectResult: (r) => expect(r).toBeInstanceOf(Map),
    },
    {
      name: 'DataChannel.close twice, with extra arguments, is a no-op',
      call: () => {
        (dc.close as (x: unknown) => void)('extra');
        dc.close();
        return dc.readyState;
      },
      expectResult: (r) => expect(['closing', 'closed']).toContain(r),
    },
    {
      name: 'DataChannel.close after its connection closed is a no-op',
      call: () => {
        closedDc.close();
        return closedDc.readyState;
      },
      expectResult: (r) => expect(r).toBe('closed'),
    },
  ]);
});

describe('SignalingClient: no input, or closed', () => {
  let c: SignalingClient;
  let closed: SignalingClient;
  beforeAll(async () => {
    // No call below reaches the network.
    c = new SignalingClient({ ...sig, cache: false });
    closed = new SignalingClient({ ...sig, cache: false });
    await closed.close();
  });
  afterAll(async () => {
    await c.close();
  });
  const setOffset = (v: unknown) => () => {
    c.systemClockOffset = bad(v);
  };
  table([
    {
      name: 'SignalingClient.systemClockOffset = NaN',
      call: setOffset(NaN),
      message: /systemClockOffset must be a finite number of ms within ±10000000000000, got NaN/,
    },
    {
      name: 'SignalingClient.systemClockOffset = 1e14 (past a valid Date)',
      call: setOffset(1e14),
      message: /systemClockOffset must be .* within ±10000000000000/,
    },
    {
      name: 'SignalingClient.systemClockOffset = "5"',
      call: setOffset('5'),
      message: /systemClockOffset must be a finite number/,
    },
    {
      name: 'new SignalingClient: systemClockOffset -1e14',
      call: () => new SignalingClient({ ...sig, systemClockOffset: -1e14 }),
      message: /systemClockOffset must be .* within ±10000000000000/,
    },
    {
      name: 'SignalingClient.fetch with a signal that is not an AbortSignal',
      call: () => c.fetch(bad(5)),
      message: /fetch: signal must be an AbortSignal, got 5/,
    },
    {
      name: 'SignalingClient.getIceServers with a signal that is not an AbortSignal',
      call: () => c.getIceServers(bad({})),
      message: /getIceServers: signal must be an AbortSignal/,
    },
    {
      name: 'SignalingClient.getIceConfig with a signal that is not an AbortSignal',
      call: () => c.getIceConfig(bad(7)),
      message: /getIceConfig: signal must be an AbortSignal/,
    },
    {
      name: 'SignalingClient.deleteChannel with a signal that is not an AbortSignal',
      call: () => c.deleteChannel(bad('x')),
      message: /deleteChannel: signal must be an AbortSignal/,
    },
    ...(['fetch', 'getIceServers', 'getIceConfig', 'deleteChannel'] as const).map((m): Row => ({
      name: `SignalingClient.${m} after close`,
      call: () => closed[m](),
      code: 'ERR_SIGNALING_CLOSED',
      message: /the signaling client is closed/,
    })),
  ]);
  accepts([
    {
      name: 'SignalingClient.getCurrentState ignores extra arguments',
      call: () => (closed.getCurrentState as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(r).toBe('DISCONNECTED'),
    },
    {
      name: 'SignalingClient.getMetrics on a closed client',
      call: () => closed.getMetrics(),
      expectResult: (r) => expect(r).toMatchObject({ numberOfErrors: 0 }),
    },
    {
      name: 'SignalingClient.systemClockOffset = -10 min is kept',
      call: () => {
        c.systemClockOffset = -600_000;
        return c.systemClockOffset;
      },
      expectResult: (r) => expect(r).toBe(-600_000),
    },
    {
      name: 'SignalingClient.disconnect on a closed client resolves',
      call: async () => {
        await closed.disconnect();
        return closed.state;
      },
      expectResult: (r) => expect(r).toBe('DISCONNECTED'),
    },
    {
      name: 'SignalingClient.close twice resolves',
      call: async () => {
        await closed.close();
        return closed.state;
      },
      expectResult: (r) => expect(r).toBe('DISCONNECTED'),
    },
  ]);
});

describe('Master and Viewer: no input, or closed', () => {
  let master: Master;
  let viewer: Viewer;
  let closedMaster: Master;
  let closedViewer: Viewer;
  beforeAll(async () => {
    master = new Master({ ...session, logger: quiet });
    viewer = new Viewer({ ...session, logger: quiet });
    closedMaster = new Master({ ...session, logger: quiet });
    closedViewer = new Viewer({ ...session, logger: quiet });
    await Promise.all([closedMaster.close(), closedViewer.close()]);
  });
  afterAll(async () => {
    await Promise.all([master.close(), viewer.close()]);
  });
  table([
    {
      name: 'Master.closeViewer(5)',
      call: () => master.closeViewer(bad(5)),
      message: /closeViewer: viewerId must be 1-256 characters of \[a-zA-Z0-9_-\], got 5/,
    },
    {
      name: 'Master.closeViewer of 257 characters',
      call: () => master.closeViewer(big(257)),
      message: /closeViewer: viewerId must be 1-256 characters/,
    },
    {
      name: 'new ViewerSession(5)',
      call: () => new ViewerSession(bad(5)),
      message: /ViewerSession: viewerId must be 1-256 characters/,
    },
    {
      name: 'Viewer.timeToFirstFrame("data")',
      call: () => viewer.timeToFirstFrame(bad('data')),
      message: /timeToFirstFrame: kind must be "audio" or "video", got "data"/,
    },
    {
      name: 'Viewer.connect after close',
      call: () => closedViewer.connect(),
      code: 'ERR_SESSION_CLOSED',
      message: /Viewer: closed/,
    },
  ]);
  accepts([
    {
      name: 'Master.closeViewer of a viewer it does not have resolves (nothing to end)',
      call: () => master.closeViewer('nobody'),
      expectResult: (r) => expect(r).toBeUndefined(),
    },
    {
      name: 'Master.metrics ignores extra arguments',
      call: () => (master.metrics as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(r).toEqual(new Map()),
    },
    {
      name: 'Master.writeFrame after close sends to nobody',
      call: () => closedMaster.writeFrame('video', frame),
      expectResult: (r) => expect(r).toBe(0),
    },
    {
      name: 'Master.close twice resolves',
      call: () => closedMaster.close(),
      expectResult: (r) => expect(r).toBeUndefined(),
    },
    {
      name: 'Viewer.timeToFirstFrame before any frame is undefined',
      call: () => viewer.timeToFirstFrame('audio'),
      expectResult: (r) => expect(r).toBeUndefined(),
    },
    {
      name: 'Viewer.getStats before connect is empty',
      call: () => viewer.getStats(),
      expectResult: (r) => expect(r).toEqual(new Map()),
    },
    {
      name: 'Viewer.metrics before connect is undefined',
      call: () => viewer.metrics(),
      expectResult: (r) => expect(r).toBeUndefined(),
    },
    {
      name: 'Viewer.close twice resolves',
      call: async () => {
        await closedViewer.close();
        return closedViewer.state;
      },
      expectResult: (r) => expect(r).toBe('closed'),
    },
  ]);
});

describe('helpers: stats, errors, media, versions', () => {
  const report: StatsReport = new Map();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kvs-bad-input-frames-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  table([
    {
      name: 'getStat(null, ...)',
      call: () => getStat(bad(null), 'x', 'codec'),
      message: /getStat: report must be a Map, got null/,
    },
    {
      name: 'getStat id a number',
      call: () => getStat(report, bad(5), 'codec'),
      message: /getStat: id must be a string or undefined, got 5/,
    },
    {
      name: 'getStat type a number',
      call: () => getStat(report, 'x', bad(5)),
      message: /getStat: type must be a stats type name, got 5/,
    },
    {
      name: 'statsOfType({}, ...)',
      call: () => statsOfType(bad({}), 'codec'),
      message: /statsOfType: report must be a Map, got an object/,
    },
    {
      name: 'statsOfType type null',
      call: () => statsOfType(report, bad(null)),
      message: /statsOfType: type must be a stats type name, got null/,
    },
    {
      name: 'summarizeStats(undefined)',
      call: () => summarizeStats(bad(undefined)),
      message: /summarizeStats: stats must be a Map, got undefined/,
    },
    {
      name: 'describeCandidate(5)',
      call: () => describeCandidate(bad(5)),
      message: /describeCandidate: candidate must be a CandidateInfo or undefined, got 5/,
    },
    {
      name: 'defaultRegion(null)',
      call: () => defaultRegion(bad(null)),
      message: /defaultRegion: env must be an object, got null/,
    },
    {
      name: 'isKeyFrame codec AV1',
      call: () => isKeyFrame(bad('AV1'), Buffer.alloc(1)),
      message: /isKeyFrame: codec must be one of .*H264.*, got "AV1"/,
    },
    {
      name: 'isKeyFrame frame a string',
      call: () => isKeyFrame('H264', bad('abc')),
      message: /isKeyFrame: frame must be a Buffer or Uint8Array, got "abc"/,
    },
    {
      name: 'LoopingMediaSource.codecOf("data")',
      call: () => new LoopingMediaSource(sampleTracks()).codecOf(bad('data')),
      message: /LoopingMediaSource\.codecOf: kind must be "audio" or "video", got "data"/,
    },
    {
      name: 'FrameDirWriter.write(5)',
      call: () => new FrameDirWriter(dir, 'H264').write(bad(5)),
      message: /FrameDirWriter\.write: data must be a Buffer or Uint8Array, got 5/,
    },
    {
      name: 'new KvsError with an unregistered code',
      call: () => new KvsError(bad('ERR_NOT_A_CODE'), 'x'),
      message: /KvsError: code must be a registered code \(see ERROR_CODES\), got "ERR_NOT_A_CODE"/,
    },
    {
      name: 'new KvsError with code 5',
      call: () => new KvsError(bad(5), 'x'),
      message: /KvsError: code must be a registered code .*, got number/,
    },
  ]);
  accepts([
    {
      name: 'isKvsErrorCode of anything: false unless registered (no prototype keys)',
      call: () => [5, null, '__proto__', 'toString', 'ERR_NOPE', 'ERR_ABORTED'].map(isKvsErrorCode),
      expectResult: (r) => expect(r).toEqual([false, false, false, false, false, true]),
    },
    {
      name: 'KvsError.fromNative of a non-error is ERR_NATIVE_UNKNOWN',
      call: () => KvsError.fromNative(5, 'ctx'),
      expectResult: (r) =>
        expect(r).toMatchObject({ code: 'ERR_NATIVE_UNKNOWN', message: 'ctx: 5' }),
    },
    {
      name: 'versions ignores extra arguments',
      call: () => (versions as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(r).toHaveProperty('openssl'),
    },
    {
      name: 'sampleTracks ignores extra arguments',
      call: () => (sampleTracks as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(Object.keys(r as object)).toEqual(['video', 'audio']),
    },
    {
      name: 'defaultRegion({}) is us-west-2',
      call: () => defaultRegion({}),
      expectResult: (r) => expect(r).toBe('us-west-2'),
    },
    {
      name: 'getStat with id undefined is undefined',
      call: () => getStat(report, undefined, 'codec'),
      expectResult: (r) => expect(r).toBeUndefined(),
    },
    {
      name: 'LoopingMediaSource start, stop and requestKeyFrame twice over, and counters',
      call: () => {
        const src = new LoopingMediaSource(sampleTracks());
        src.requestKeyFrame(); // not running: ignored
        src.start();
        src.start();
        src.stop();
        src.stop();
        src.requestKeyFrame();
        return { running: src.running, kinds: Object.keys(src.counters()) };
      },
      expectResult: (r) => expect(r).toEqual({ running: false, kinds: ['video', 'audio'] }),
    },
    {
      name: 'FrameDirWriter.write after a refused write numbers on without a gap',
      call: () => {
        const w = new FrameDirWriter(dir, 'H264');
        try {
          w.write(bad('x'));
        } catch {
          // refused, as the row above
        }
        return path.basename(w.write(Buffer.from([0, 0, 0, 1, 0x65])));
      },
      expectResult: (r) => expect(r).toBe('frame-0001.h264'),
    },
    {
      name: 'defaultDataDir ignores extra arguments',
      call: () => (defaultDataDir as (x: unknown) => unknown)('extra'),
      expectResult: (r) => expect(r).toMatch(/\.kvs-webrtc/),
    },
  ]);
});

// ---- Every export has a row ----

/**
 * Each public function, constructor, static method, method and setter of both entry points
 * (test/api/exports.ts lists them from the sources), and the rows that cover it: a pattern
 * that must match at least one row name above. A new export fails the check below until it
 * gets a row here.
 */
const COVERAGE: Record<string, RegExp> = {
  // kvs-webrtc: errors, versions, self-test
  'new KvsError': /^new KvsError /,
  'KvsError.fromNative': /^KvsError\.fromNative /,
  isKvsErrorCode: /^isKvsErrorCode /,
  versions: /^versions /,
  selfTest: /^selfTest/,
  // endpoint caches, IoT, NAT
  'new MemoryEndpointCache': /^MemoryEndpointCache (options|ttlMs|maxEntries|now)/,
  'MemoryEndpointCache#get': /^MemoryEndpointCache\.get/,
  'MemoryEndpointCache#set': /^MemoryEndpointCache\.set/,
  'MemoryEndpointCache#delete': /^MemoryEndpointCache\.delete/,
  'new FileEndpointCache': /^FileEndpointCache path/,
  fromIotCredentials: /^fromIotCredentials/,
  iotOptionsFromEnv: /^iotOptionsFromEnv/,
  discoverNatBehavior: /^discoverNatBehavior/,
  parseStunUrl: /^parseStunUrl/,
  // peer connection
  'new PeerConnection': /^new PeerConnection: /,
  'PeerConnection.create': /^PeerConnection\.create/,
  'PeerConnection#getTransceivers': /^PeerConnection\.getTransceivers /,
  'PeerConnection#addTransceiver': /^addTransceiver/,
  'PeerConnection#createDataChannel': /^createDataChannel/,
  'PeerConnection#enableDataChannels': /^enableDataChannels after close/,
  'PeerConnection#createOffer': /^createOffer after close/,
  'PeerConnection#createAnswer': /^createAnswer after close/,
  'PeerConnection#setLocalDescription': /^setLocalDescription/,
  'PeerConnection#setRemoteDescription': /^setRemoteDescription/,
  'PeerConnection#addIceCandidate': /^addIceCandidate/,
  'PeerConnection#restartIce': /^restartIce after close/,
  'PeerConnection#setConfiguration': /^setConfiguration/,
  'PeerConnection#getStats': /^PeerConnection\.getStats /,
  'PeerConnection#close': /^PeerConnection\.close /,
  rtcPeerConnectionGetMetrics: /^rtcPeerConnectionGetMetrics/,
  peerConnectionGetMetrics: /^peerConnectionGetMetrics/,
  iceAgentGetMetrics: /^iceAgentGetMetrics/,
  getStat: /^getStat[ (]/,
  statsOfType: /^statsOfType/,
  // transceiver
  'Transceiver#writeFrame':
    /^writeFrame (frameData|flags|index|presentationTs|decodingTs|duration|\(undefined\))/,
  'Transceiver#updateEncoderStats': /^updateEncoderStats (targetBitrate|frameWidth|\(null\))/,
  'Transceiver#getStats': /^Transceiver\.getStats /,
  'Transceiver#requestKeyFrame': /^Transceiver\.requestKeyFrame /,
  'Transceiver#configureRollingBuffer': /^configureRollingBuffer/,
  writeFrame: /^writeFrame\(null, frame\)/,
  transceiverOnFrame: /^transceiverOnFrame/,
  transceiverOnPictureLoss: /^transceiverOnPictureLoss/,
  transceiverOnBandwidthEstimation: /^transceiverOnBandwidthEstimation/,
  updateEncoderStats: /^updateEncoderStats\(null, stats\)/,
  writeFrameToMany: /^writeFrameToMany/,
  // data channel
  'DataChannel#bufferedAmountLowThreshold=': /^DataChannel bufferedAmountLowThreshold/,
  'DataChannel#send': /^(send\(|send over|DataChannel\.send )/,
  'DataChannel#close': /^DataChannel\.close /,
  dataChannelSend: /^dataChannelSend/,
  dataChannelOnMessage: /^dataChannelOnMessage/,
  dataChannelOnOpen: /^dataChannelOnOpen/,
  // signaling
  'new SignalingClient': /^new SignalingClient: /,
  'SignalingClient#getCurrentState': /^SignalingClient\.getCurrentState /,
  'SignalingClient#systemClockOffset=': /^SignalingClient\.systemClockOffset = /,
  'SignalingClient#getMetrics': /^SignalingClient\.getMetrics /,
  'SignalingClient#fetch': /^SignalingClient\.fetch /,
  'SignalingClient#connect': /^connect (with a signal|after close)/,
  'SignalingClient#getIceServers': /^SignalingClient\.getIceServers /,
  'SignalingClient#getIceConfig': /^SignalingClient\.getIceConfig /,
  'SignalingClient#sendSdpOffer': /^sendSdpOffer/,
  'SignalingClient#sendSdpAnswer': /^sendSdpAnswer/,
  'SignalingClient#sendIceCandidate': /^sendIceCandidate/,
  'SignalingClient#disconnect': /^SignalingClient\.disconnect /,
  'SignalingClient#deleteChannel': /^SignalingClient\.deleteChannel /,
  'SignalingClient#close': /^SignalingClient\.close /,
  signalingClientGetMetrics: /^signalingClientGetMetrics/,
  // sessions
  'new Master': /^new Master: /,
  'Master#start': /^Master\.start /,
  'Master#writeFrame': /^Master\.writeFrame /,
  'Master#sendMessage': /^Master\.sendMessage/,
  'Master#closeViewer': /^Master\.closeViewer/,
  'Master#metrics': /^Master\.metrics /,
  'Master#close': /^Master\.close /,
  'new ViewerSession': /^new ViewerSession/,
  'new Viewer': /^new Viewer: /,
  'Viewer#timeToFirstFrame': /^Viewer\.timeToFirstFrame/,
  'Viewer#connect': /^Viewer\.connect /,
  'Viewer#writeFrame': /^Viewer\.writeFrame /,
  'Viewer#sendMessage': /^Viewer\.sendMessage /,
  'Viewer#getStats': /^Viewer\.getStats /,
  'Viewer#metrics': /^Viewer\.metrics /,
  'Viewer#close': /^Viewer\.close /,
  defaultRegion: /^defaultRegion/,
  summarizeStats: /^summarizeStats/,
  describeCandidate: /^describeCandidate/,
  // media
  'new LoopingMediaSource': /^LoopingMediaSource (options|with no track|video codec)/,
  'LoopingMediaSource#codecOf': /^LoopingMediaSource\.codecOf/,
  'LoopingMediaSource#counters': /^LoopingMediaSource start, stop .* counters/,
  'LoopingMediaSource#start': /^LoopingMediaSource start/,
  'LoopingMediaSource#stop': /^LoopingMediaSource start, stop/,
  'LoopingMediaSource#requestKeyFrame': /^LoopingMediaSource .*requestKeyFrame/,
  sampleTracks: /^sampleTracks /,
  'new FrameDirWriter': /^FrameDirWriter (codec|dir)/,
  'FrameDirWriter#write': /^FrameDirWriter\.write/,
  isKeyFrame: /^isKeyFrame/,
  readFrameDir: /^readFrameDir/,
  // kvs-webrtc/local
  'local:startLocalKvs':
    /^(startLocalKvs|host|port|dataDir|region|accountId|turn|log|limits|principals|iot) /,
  'local:defaultDataDir': /^defaultDataDir /,
  'local:viewerPageUrl': /^viewerPageUrl/,
};

/**
 * The values each entry point exports (not callable: nothing to give bad input to). Listed so
 * that a new one is a decision too; each must be deeply frozen, so that no caller can change
 * what the library itself reads (ERROR_CODES, the limits, the default tracks).
 */
const VALUES = [
  'ERROR_CODES',
  'SRTP_PROFILES',
  'IOT_ENV',
  'MAX_ICE_SERVERS',
  'MAX_BUFFERED_BYTES',
  'FrameFlags',
  'SIGNALING_CLIENT_STATE',
  'MAX_PAYLOAD_CHARS',
  'HUNDREDS_OF_NANOS_IN_A_MILLISECOND',
  'DEFAULT_TRACKS',
  'SAMPLES_DIR',
  'local:DEFAULT_LIMITS',
  'local:DEFAULT_ROLE_ALIAS',
];

function deeplyFrozen(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v !== 'object' || v === null || seen.has(v)) return true;
  seen.add(v);
  return Object.isFrozen(v) && Object.values(v).every((x) => deeplyFrozen(x, seen));
}

describe('coverage', () => {
  const root = path.resolve(__dirname, '..', '..');
  const index = path.join(root, 'lib', 'index.ts');
  const localIndex = path.join(root, 'lib', 'local', 'index.ts');
  const runtime = {
    [index]: api as Record<string, unknown>,
    [localIndex]: localApi as Record<string, unknown>,
  };
  const prefix = (entry: string) => (entry === localIndex ? 'local:' : '');
  let surface: Map<string, ApiMember[]>;
  beforeAll(() => {
    surface = publicApi(root, [index, localIndex]);
  }, 120_000);

  it('lists what the entry points export at run time, and only that', () => {
    for (const [entry, members] of surface) {
      const names = new Set(members.map((m) => m.exportName));
      const keys = Object.keys(runtime[entry] ?? {}).filter((k) => k !== 'default');
      // Every runtime export is enumerated; the checker's value exports that do not exist
      // at run time (re-exported with `export type`) are not part of the API.
      expect(
        keys.filter((k) => !names.has(k)),
        entry,
      ).toEqual([]);
      for (const m of members) {
        if (!keys.includes(m.exportName)) continue;
        const v = runtime[entry]?.[m.exportName] as { prototype?: object } | undefined;
        if (m.kind === 'method' || m.kind === 'setter') {
          // The member exists on the class (or a base it declares it in).
          const proto = v?.prototype as Record<string, unknown> | undefined;
          expect(proto && m.member !== undefined && m.member in proto, m.key).toBe(true);
        }
      }
    }
  });

  it('every function, constructor, method and setter has a row; every value is frozen', () => {
    const missing: string[] = [];
    const unmatched: string[] = [];
    const values: string[] = [];
    for (const [entry, members] of surface) {
      const keys = new Set(Object.keys(runtime[entry] ?? {}));
      for (const m of members) {
        if (!keys.has(m.exportName)) continue;
        const key = `${prefix(entry)}${m.key}`;
        if (m.kind === 'value') {
          values.push(key);
          expect(deeplyFrozen(runtime[entry]?.[m.exportName]), `${key} is not frozen`).toBe(true);
          continue;
        }
        const pattern = COVERAGE[key];
        if (!pattern) missing.push(key);
        else if (!rowNames.some((n) => pattern.test(n))) unmatched.push(key);
      }
    }
    expect(missing, 'exports with no row in COVERAGE').toEqual([]);
    expect(unmatched, 'COVERAGE patterns that match no row').toEqual([]);
    expect(values.sort()).toEqual([...VALUES].sort());
    // And no stale entry for something no longer exported.
    const all = new Set<string>();
    for (const [entry, members] of surface)
      for (const m of members) all.add(`${prefix(entry)}${m.key}`);
    expect(Object.keys(COVERAGE).filter((k) => !all.has(k))).toEqual([]);
  });
});

// ---- Nothing half-made keeps the process alive ----

describe('failed constructors and rejected starts', () => {
  let svc: LocalKvs;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kvs-bad-input-svc-'));
    svc = await startLocalKvs({ port: 0, turn: false, dataDir: dir, log: () => undefined });
  });
  afterAll(async () => {
    await svc.stop({ graceful: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('leave no native handle, socket or timer: the process exits by itself', async () => {
    // The child makes every kind of failed object, never closes anything, and must then
    // end on its own (a left handle would keep it alive until the deadline kills it).
    const { stdout } = await run(
      process.execPath,
      [
        path.join(__dirname, 'bad-input-child.mjs'),
        path.resolve('dist/index.js'),
        path.resolve('dist/local/index.js'),
        svc.endpoint,
        svc.caCertPath,
      ],
      { timeout: 120_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('done');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^ok /);
    expect(lines.length).toBeGreaterThan(10);
  });
});
