// Fixtures of the session suites: a local service, Masters and Viewers pointed at it with
// loopback-only host candidates, and bounded event-driven waits.
import { EventEmitter } from 'node:events';
import {
  LoopingMediaSource,
  Master,
  sampleTracks,
  Viewer,
  type MasterOptions,
  type ReceivedFrame,
  type SessionOptions,
  type ViewerOptions,
} from '../../lib/index.js';
import type { LocalKvs, LocalKvsOptions } from '../../lib/local/index.js';
import { removeDir, startTestService } from '../local/helpers.js';

export interface Fixture {
  /** The service; restartService() replaces it. */
  svc: LocalKvs;
  /** The service's data directory (kept across restartService()). */
  dataDir: string;
  common: SessionOptions;
  master(options?: Partial<MasterOptions>): Master;
  viewer(options?: Partial<ViewerOptions>): Viewer;
  /** A source streaming the samples into `master` (answering its key-frame requests). */
  stream(master: Master, answerKeyFrameRequests?: boolean): LoopingMediaSource;
  /** Stops the service abruptly if it runs, then starts it again on its port and data dir. */
  restartService(): Promise<LocalKvs>;
  close(): Promise<void>;
}

let channels = 0;

export async function fixture(options: LocalKvsOptions = {}): Promise<Fixture> {
  const serviceOptions: LocalKvsOptions = {
    ...options,
    limits: {
      // One process plays every viewer: the per-channel rates of the real service would
      // throttle the set-up of a dozen viewers (their own tests are in test/local).
      connectTpsPerChannel: 50,
      controlPlaneChannelTps: 50,
      dataPlaneTpsPerChannel: 50,
      ...options.limits,
    },
  };
  const { svc, dataDir } = await startTestService(serviceOptions);
  const common: SessionOptions = {
    channelName: `session-${process.pid}-${++channels}`,
    region: svc.region,
    credentials: svc.credentials,
    endpoint: svc.endpoint,
    caCertPath: svc.caCertPath,
    peerConnection: { interfaces: { only: ['127.0.0.1'] } },
  };
  const masters: Master[] = [];
  const viewers: Viewer[] = [];
  const sources: LoopingMediaSource[] = [];
  const fx: Fixture = {
    svc,
    dataDir,
    common,
    master: (o = {}) => {
      const m = new Master({ ...common, ...o });
      masters.push(m);
      return m;
    },
    viewer: (o = {}) => {
      const v = new Viewer({ ...common, ...o });
      viewers.push(v);
      return v;
    },
    stream: (master, answer = true) => {
      const source = new LoopingMediaSource({ ...sampleTracks(), answerKeyFrameRequests: answer });
      source.on('frame', (kind, frame) => master.writeFrame(kind, frame));
      master.on('keyframerequest', () => source.requestKeyFrame());
      source.start();
      sources.push(source);
      return source;
    },
    restartService: async () => {
      await fx.svc.stop({ graceful: false });
      const port = fx.svc.port;
      fx.svc = (await startTestService({ ...serviceOptions, port, dataDir })).svc;
      return fx.svc;
    },
    close: async () => {
      for (const s of sources) s.stop();
      await Promise.allSettled(viewers.map((v) => v.close()));
      await Promise.allSettled(masters.map((m) => m.close()));
      await fx.svc.stop({ graceful: false });
      removeDir(dataDir);
    },
  };
  return fx;
}

/** Resolves with the arguments of the first `event` that `match`es; rejects after `ms`. */
export function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  match: (...args: T) => boolean = () => true,
  ms = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    function on(...args: unknown[]): void {
      if (!match(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args as T);
    }
    emitter.on(event, on);
  });
}

/** Waits (bounded) until `done` holds, checking every 25 ms. */
export async function until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The video frames a viewer receives, from now on. */
export function recordVideo(viewer: Viewer): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  viewer.on('frame', (kind, f) => {
    if (kind === 'video') frames.push(f);
  });
  return frames;
}
