// Media native to native on loopback: real H.264 and Opus made by ffmpeg, written with
// writeFrame on one side and rebuilt as whole frames on the other.
import { afterEach, describe, expect, it } from 'vitest';
import {
  FrameFlags,
  PeerConnection,
  writeFrameToMany,
  type ReceivedFrame,
  type Transceiver,
} from '../../lib/index.js';
import { carriedNals, h264Samples, isIdr, opusSamples } from '../helpers/media.js';
import { LOOPBACK, negotiate, trickle, waitForState } from '../helpers/peers.js';

const open: PeerConnection[] = [];
function pc(): PeerConnection {
  const p = new PeerConnection(LOOPBACK);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `done` holds, polling every 20 ms. */
async function until(done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

async function connectedPair(): Promise<{
  offerer: PeerConnection;
  answerer: PeerConnection;
  sendVideo: Transceiver;
  sendAudio: Transceiver;
  recvVideo: Transceiver;
  recvAudio: Transceiver;
  keyFrameRequests: string[];
}> {
  const offerer = pc();
  const answerer = pc();
  trickle(offerer, answerer);
  const sendVideo = await offerer.addTransceiver({
    kind: 'video',
    codecs: ['H264'],
    direction: 'sendonly',
  });
  const sendAudio = await offerer.addTransceiver({
    kind: 'audio',
    codecs: ['opus'],
    direction: 'sendonly',
  });
  // The request for the first key frame comes as the connection becomes ready.
  const keyFrameRequests: string[] = [];
  sendVideo.on('keyframerequest', (r) => keyFrameRequests.push(r.reason));
  const tracks: Transceiver[] = [];
  answerer.on('track', (t) => tracks.push(t));
  await negotiate(offerer, answerer);
  await Promise.all([waitForState(offerer, 'connected'), waitForState(answerer, 'connected')]);
  const recvVideo = tracks.find((t) => t.kind === 'video');
  const recvAudio = tracks.find((t) => t.kind === 'audio');
  if (!recvVideo || !recvAudio) throw new Error('the answerer saw no track');
  return { offerer, answerer, sendVideo, sendAudio, recvVideo, recvAudio, keyFrameRequests };
}

describe('media native to native', () => {
  it('H.264 access units arrive whole, in order, NAL for NAL, with key frames flagged', async () => {
    const { sendVideo, recvVideo } = await connectedPair();
    expect(sendVideo.codec).toBe('H264');
    expect(recvVideo.currentDirection).toBe('recvonly');
    const received: ReceivedFrame[] = [];
    recvVideo.on('frame', (f) => received.push(f));
    const frames = h264Samples(100);
    for (let i = 0; i < frames.length; i++) {
      const frameData = frames[i] as Buffer;
      expect(
        sendVideo.writeFrame({
          frameData,
          presentationTs: i * 400_000, // 40 ms in 100 ns units
          flags: isIdr(frameData) ? FrameFlags.KEY_FRAME : 0,
          index: i,
        }),
      ).toBe(true);
      await sleep(2);
    }
    await until(() => received.length === frames.length);
    for (let i = 0; i < frames.length; i++) {
      const got = received[i] as ReceivedFrame;
      expect(carriedNals(got.frameData), `frame ${i}`).toEqual(carriedNals(frames[i] as Buffer));
      expect((got.flags & FrameFlags.KEY_FRAME) !== 0, `key flag of frame ${i}`).toBe(
        isIdr(frames[i] as Buffer),
      );
      expect(got.presentationTs, `timestamp of frame ${i}`).toBe(i * 400_000);
    }
  });

  it('a stream that starts with P frames waits for the next key frame and asks for one', async () => {
    const { sendVideo, recvVideo, keyFrameRequests: requests } = await connectedPair();
    expect(requests[0]).toBe('first-frame');
    const received: ReceivedFrame[] = [];
    recvVideo.on('frame', (f) => received.push(f));
    const frames = h264Samples(30); // frames 1-24 are P frames after the IDR at 0; 25 is an IDR
    for (let i = 1; i < frames.length; i++) {
      sendVideo.writeFrame({ frameData: frames[i] as Buffer, presentationTs: i * 400_000 });
      await sleep(2);
    }
    await until(() => received.length === 5); // 25..29
    expect(requests.length).toBeGreaterThan(0);
    expect(isIdr(received[0]?.frameData as Buffer)).toBe(true);
    expect(carriedNals(received[0]?.frameData as Buffer)).toEqual(
      carriedNals(frames[25] as Buffer),
    );
  });

  it('Opus packets arrive one frame each, byte for byte', async () => {
    const { sendAudio, recvAudio } = await connectedPair();
    const received: Buffer[] = [];
    recvAudio.on('frame', (f) => received.push(f.frameData));
    const packets = opusSamples(50);
    for (let i = 0; i < packets.length; i++) {
      sendAudio.writeFrame({ frameData: packets[i] as Buffer, presentationTs: i * 200_000 });
      await sleep(2);
    }
    await until(() => received.length === packets.length);
    expect(received.map((b) => b.toString('hex'))).toEqual(packets.map((b) => b.toString('hex')));
  });

  it('frames written before the connection is ready are discarded, not thrown', async () => {
    const a = pc();
    const t = await a.addTransceiver({ kind: 'video', direction: 'sendonly' });
    const frame = h264Samples(1)[0] as Buffer;
    expect(t.writeFrame({ frameData: frame, presentationTs: 0 })).toBe(true); // queued, then discarded
    await a.close();
    expect(t.writeFrame({ frameData: frame, presentationTs: 0 })).toBe(false);
    expect(() => t.writeFrame({ frameData: Buffer.alloc(0) })).toThrow(/frameData is empty/);
  });
});

describe('fan-out', () => {
  it('writeFrameToMany sends one frame to several viewers, each rebuilding it whole', async () => {
    const viewers = 3;
    const senders: Transceiver[] = [];
    const received: Buffer[][] = [];
    for (let v = 0; v < viewers; v++) {
      const { sendVideo, recvVideo } = await connectedPair();
      senders.push(sendVideo);
      const got: Buffer[] = [];
      recvVideo.on('frame', (f) => got.push(f.frameData));
      received.push(got);
    }
    const frames = h264Samples(30);
    for (let i = 0; i < frames.length; i++) {
      const frameData = frames[i] as Buffer;
      expect(writeFrameToMany(senders, { frameData, presentationTs: i * 400_000 })).toBe(viewers);
      await sleep(2);
    }
    await until(() => received.every((got) => got.length === frames.length));
    for (const got of received) {
      expect(got.map((f) => carriedNals(f).join())).toEqual(
        frames.map((f) => carriedNals(f).join()),
      );
    }
  });
});
