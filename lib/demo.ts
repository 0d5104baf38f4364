import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvsError } from './errors.js';
import { startLocalKvs } from './local/index.js';
import { PeerConnection, type PeerConnectionConfig, getStat } from './peer/index.js';
import { selfTest } from './self-test.js';
import { SignalingClient, signalingClientGetMetrics } from './signaling/index.js';
import { versions } from './versions.js';

export interface DemoOptions {
  /** Where lines go; console.log by default. */
  print?: (line: string) => void;
  /** Give up after this long (ms). */
  timeoutMs?: number;
}

/**
 * The end-to-end demo on the embedded local KVS service: a master and a viewer join one
 * signaling channel, the viewer offers, and their native peer connections connect over
 * loopback (ICE, DTLS 1.2, SRTP keys). Resolves with the time from the viewer's offer to
 * both peers connected.
 */
export async function runDemo(options: DemoOptions = {}): Promise<{ offerToConnectedMs: number }> {
  const print = options.print ?? ((line: string) => console.log(line));
  const v = versions();
  print(`kvs-webrtc: ${v.openssl} (${v.opensslPlatform}), ${v.libsrtp2}, usrsctp ${v.usrsctp}`);
  for (const r of selfTest()) print(`self-test ${r.profile}: ok (${r.dtlsVersion}, ${r.cipher})`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-webrtc-demo-'));
  const kvs = await startLocalKvs({ port: 0, dataDir, turn: false });
  print(`local KVS service at ${kvs.endpoint} (region ${kvs.region})`);
  const channelName = `demo-${process.pid}`;
  const common = {
    channelName,
    region: kvs.region,
    credentials: kvs.credentials,
    endpoint: kvs.endpoint,
    caCertPath: kvs.caCertPath,
    createIfMissing: true,
  };
  const master = new SignalingClient({ ...common, role: 'MASTER' });
  const viewer = new SignalingClient({ ...common, role: 'VIEWER', clientId: 'demo-viewer' });
  // The demo stays on this machine: host candidates on loopback only.
  const pcConfig: PeerConnectionConfig = { interfaces: { only: ['127.0.0.1'] } };
  const masterPc = new PeerConnection(pcConfig);
  const viewerPc = new PeerConnection(pcConfig);
  try {
    await master.connect();
    await viewer.connect();
    print(`master and viewer connected to channel ${channelName}`);

    // Event handlers cannot await: their failures are printed, never left unhandled.
    const report =
      (who: string) =>
      (err: unknown): void =>
        print(`${who}: ${err instanceof Error ? err.message : String(err)}`);

    // Master: answer the viewer (the C SDK's kvsWebrtcClientMaster does the same per viewer).
    let viewerId = '';
    master.on('sdpOffer', (offer, from) => {
      viewerId = from;
      (async () => {
        await masterPc.setRemoteDescription(offer);
        await masterPc.addTransceiver({ kind: 'video', direction: 'sendonly' });
        await masterPc.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
        const answer = await masterPc.createAnswer();
        await masterPc.setLocalDescription(answer);
        await master.sendSdpAnswer(answer, from);
      })().catch(report('master'));
    });
    master.on('iceCandidate', (c) => {
      masterPc.addIceCandidate(c.candidate).catch(report('master'));
    });
    masterPc.on('icecandidate', (c) => {
      if (c && viewerId) master.sendIceCandidate(c, viewerId).catch(report('master'));
    });
    viewer.on('sdpAnswer', (answer) => {
      viewerPc.setRemoteDescription(answer).catch(report('viewer'));
    });
    viewer.on('iceCandidate', (c) => {
      viewerPc.addIceCandidate(c.candidate).catch(report('viewer'));
    });
    viewerPc.on('icecandidate', (c) => {
      if (c) viewer.sendIceCandidate(c).catch(report('viewer'));
    });

    const connected = (pc: PeerConnection, who: string) =>
      new Promise<void>((resolve, reject) =>
        pc.on('connectionstatechange', (s) => {
          print(`${who} peer connection: ${s}`);
          if (s === 'connected') resolve();
          if (s === 'failed')
            reject(new KvsError('ERR_DEMO_FAILED', `${who} peer connection failed`));
        }),
      );
    const both = Promise.all([connected(masterPc, 'master'), connected(viewerPc, 'viewer')]);

    // Viewer: offer video and audio to receive (the C SDK's kvsWebrtcClientViewer offers).
    await viewerPc.addTransceiver({ kind: 'video', direction: 'recvonly' });
    await viewerPc.addTransceiver({ kind: 'audio', direction: 'sendrecv' });
    const started = performance.now();
    const offer = await viewerPc.createOffer();
    await viewerPc.setLocalDescription(offer);
    await viewer.sendSdpOffer(offer);
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new KvsError('ERR_DEMO_FAILED', 'demo timed out')),
        options.timeoutMs ?? 20_000,
      ).unref(),
    );
    await Promise.race([both, deadline]);
    const offerToConnectedMs = performance.now() - started;
    print(
      `Connection established in ${offerToConnectedMs.toFixed(1)} ms (offer sent to both peers connected)`,
    );

    const transport = getStat(await viewerPc.getStats(), 'transport-0', 'transport');
    print(
      `viewer transport: ${String(transport?.tlsVersion)} ${String(transport?.dtlsCipher)}, ` +
        `SRTP ${String(transport?.srtpCipher)}, DTLS ${String(transport?.dtlsRole)}`,
    );
    const m = signalingClientGetMetrics(viewer);
    print(
      `viewer signaling metrics: ${m.numberOfMessagesSent} sent, ${m.numberOfMessagesReceived} received, ` +
        `${m.numberOfErrors} errors, ${m.numberOfReconnects} reconnects`,
    );
    return { offerToConnectedMs };
  } finally {
    await Promise.allSettled([masterPc.close(), viewerPc.close()]);
    await Promise.allSettled([master.close(), viewer.close()]);
    await kvs.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
