/**
 * Viewer: the other side of a channel, as the C SDK's kvsWebrtcClientViewer sample is. It
 * joins as VIEWER with its client id, makes the offer (its tracks sendrecv, and a data
 * channel), trickles ICE both ways, and emits the master's frames with their kind and the
 * master's data-channel messages.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { KvsError } from '../errors.js';
import type { Frame, ReceivedFrame } from '../media/frame.js';
import type { DataChannel } from '../peer/data-channel.js';
import {
  PeerConnection,
  type PeerConnectionState,
  type SessionDescription,
  type Stats,
} from '../peer/peer-connection.js';
import type { KeyFrameReason, MediaKind } from '../peer/transceiver.js';
import { SignalingClient } from '../signaling/client.js';
import type { Logger } from '../signaling/logger.js';
import type { LinkMetrics } from './metrics.js';
import { checkNumber, describeValue, MAX_TIMER_MS, signalError } from '../args.js';
import { checkFrame } from '../media/frame.js';
import {
  checkBooleanOption,
  checkKind,
  checkMessage,
  checkSessionOptions,
  checkTracks,
  peerConfigOf,
  sessionLogger,
  signalingOptionsOf,
  type SessionOptions,
  type TrackSpec,
} from './options.js';
import { PeerLink, type LinkCounters, type LinkTimeline } from './peer-link.js';
import {
  checkIceRestartOptions,
  IceRestarter,
  type IceRestartOptions,
  type IceRestartReason,
} from './ice-restart.js';
import { Rejoiner } from './rejoin.js';

export interface ViewerOptions extends SessionOptions {
  /** The viewer's id on the channel (1-256 of [a-zA-Z0-9_-]). Default: `viewer-<random>`. */
  clientId?: string;
  /** `sendrecv` (default: the viewer can send too, as the C SDK's sample) or `recvonly`. */
  direction?: 'sendrecv' | 'recvonly';
  /** The data channel's label, or false for none. Default `kvsDataChannel`. */
  dataChannel?: string | false;
  /** connect() gives up after this long (ms) without a connected peer. Default 30 s. */
  connectTimeoutMs?: number;
  /** Create the channel when it does not exist. Default false: a viewer needs a master. */
  createIfMissing?: boolean;
  /**
   * ICE restarts with fresh ICE servers, on `disconnected`, when a TURN allocation carrying
   * the media fails, and shortly before the TURN credentials in use expire; bounded attempts
   * with backoff, then the session ends `failed`. false: none (the session ends on
   * `disconnected`, as before).
   */
  iceRestart?: IceRestartOptions | false;
}

export interface ViewerEvents {
  /** A whole frame from the master. */
  frame: [kind: MediaKind, frame: ReceivedFrame];
  /** A data-channel message from the master. */
  message: [data: string | Buffer];
  /** The data channel is open: sendMessage works. */
  open: [];
  /** The master asks for a key frame of what this viewer sends. */
  keyframerequest: [request: { kind: MediaKind; reason: KeyFrameReason }];
  connectionstatechange: [state: PeerConnectionState];
  /** An ICE restart completed (connected again after `ms`), and what set it off. */
  icerestart: [info: { reason: IceRestartReason; ms: number; count: number }];
  /** The session ended (closed, failed or disconnected). */
  close: [reason: 'closed' | 'failed' | 'disconnected'];
  error: [error: KvsError];
}

/** When things happened, in ms of performance.now(), from connect(). */
export interface ViewerTimeline extends LinkTimeline {
  connectStarted?: number;
  signalingConnected?: number;
  offerSent?: number;
  answerReceived?: number;
}

const DEFAULT_LABEL = 'kvsDataChannel';

export class Viewer extends EventEmitter<ViewerEvents> {
  declare [Symbol.asyncDispose]: () => Promise<void>;
  readonly clientId: string;
  readonly signaling: SignalingClient;
  readonly tracks: readonly TrackSpec[];
  readonly #options: ViewerOptions;
  readonly #log: Logger;
  readonly #timeline: ViewerTimeline = { created: performance.now(), firstFrame: {} };
  #link: PeerLink | undefined;
  #restarter: IceRestarter | undefined;
  #channel: DataChannel | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #ended: 'closed' | 'failed' | 'disconnected' | undefined;
  readonly #rejoin: Rejoiner;

  constructor(options: ViewerOptions) {
    super();
    const raw: unknown = options;
    if (typeof raw !== 'object' || raw === null) {
      throw new KvsError('ERR_INVALID_ARGUMENT', 'Viewer: options must be an object');
    }
    this.#options = options;
    this.tracks = checkTracks(options.tracks, 'Viewer');
    checkSessionOptions(options, 'Viewer');
    checkNumber(options.connectTimeoutMs, 'Viewer: connectTimeoutMs', {
      min: 1,
      max: MAX_TIMER_MS,
    });
    checkBooleanOption(options.createIfMissing, 'Viewer: createIfMissing');
    checkIceRestartOptions(options.iceRestart, 'Viewer: iceRestart');
    const label: unknown = options.dataChannel;
    if (label !== undefined && label !== false) {
      if (typeof label !== 'string')
        throw new KvsError(
          'ERR_INVALID_ARGUMENT',
          `Viewer: dataChannel must be a label or false, got ${describeValue(label)}`,
        );
      // RFC 8832 §5.1: the label's length is a 16-bit field (as createDataChannel checks).
      const bytes = Buffer.byteLength(label, 'utf8');
      if (bytes > 65535)
        throw new KvsError(
          'ERR_INVALID_ARGUMENT',
          `Viewer: dataChannel label has ${bytes} bytes; the limit is 65535`,
        );
    }
    const direction: unknown = options.direction ?? 'sendrecv';
    if (direction !== 'sendrecv' && direction !== 'recvonly') {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        'Viewer: direction must be "sendrecv" or "recvonly"',
      );
    }
    this.clientId = options.clientId ?? `viewer-${randomBytes(4).toString('hex')}`;
    this.#log = sessionLogger(options, 'kvs-viewer');
    this.signaling = new SignalingClient(
      signalingOptionsOf(options, 'VIEWER', {
        clientId: this.clientId,
        createIfMissing: options.createIfMissing ?? false,
        logger: this.#log,
      }),
    );
    this.signaling.on('sdpAnswer', (answer) => this.#onAnswer(answer));
    this.signaling.on('iceCandidate', (c) => this.#link?.addRemoteCandidate(c));
    this.signaling.on('error', (e) => this.#error(e));
    // After the signaling client gave up, as the Master does: the peer connection keeps its
    // media meanwhile, and signaling is back for the master's candidates (and ICE restarts).
    this.#rejoin = new Rejoiner({
      signaling: this.signaling,
      log: this.#log,
      what: `Viewer ${this.clientId}`,
      enabled: options.signaling?.reconnect !== false,
      wanted: () =>
        this.#timeline.signalingConnected !== undefined && !this.#closed && !this.#ended,
      error: (e) => this.#error(e),
    });
  }

  get peerConnection(): PeerConnection | undefined {
    return this.#link?.pc;
  }

  /** The data channel this viewer opened (undefined with `dataChannel: false`). */
  get dataChannel(): DataChannel | undefined {
    return this.#channel;
  }

  get state(): PeerConnectionState {
    return this.#ended ? 'closed' : (this.#link?.state ?? 'new');
  }

  /** When each step happened (ms of performance.now()). */
  get timeline(): ViewerTimeline {
    return { ...this.#timeline, ...(this.#link?.timeline ?? {}), created: this.#timeline.created };
  }

  get counters(): LinkCounters | undefined {
    return this.#link?.counters;
  }

  /** ICE restarts completed so far (`icerestart` events). */
  get iceRestarts(): number {
    return this.#link?.counters.iceRestarts ?? 0;
  }

  /** ms from connect() to the first whole frame of `kind`; undefined before it. */
  timeToFirstFrame(kind: MediaKind = 'video'): number | undefined {
    checkKind(kind, 'timeToFirstFrame');
    const t = this.timeline;
    const first = t.firstFrame[kind];
    return first === undefined || t.connectStarted === undefined
      ? undefined
      : first - t.connectStarted;
  }

  /**
   * Joins the channel, offers, and resolves once the peer connection is connected; rejects
   * with ERR_SESSION_FAILED when it fails and ERR_SESSION_TIMEOUT after connectTimeoutMs.
   */
  connect(signal?: AbortSignal): Promise<void> {
    const badSignal = signalError(signal, 'Viewer.connect');
    if (badSignal) return Promise.reject(badSignal);
    if (this.#closed) return Promise.reject(new KvsError('ERR_SESSION_CLOSED', 'Viewer: closed'));
    this.#connecting ??= this.#connect(signal);
    return this.#connecting;
  }

  async #connect(signal?: AbortSignal): Promise<void> {
    this.#timeline.connectStarted = performance.now();
    // Up to READY (channel, endpoints, ICE configuration); then the socket opens while the
    // peer connection and its offer are made: messages wait in the send queue meanwhile.
    await this.signaling.fetch(signal);
    const ice = await this.signaling.getIceConfig(signal);
    const iceServers = ice.servers;
    const socket = this.signaling.connect(signal).then(() => {
      this.#timeline.signalingConnected = performance.now();
    });
    // Awaited below; a failure before then must not be an unhandled rejection.
    socket.catch(() => undefined);
    if (this.#isClosed()) throw new KvsError('ERR_SESSION_CLOSED', 'Viewer: closed');
    const pc = await PeerConnection.create(peerConfigOf(this.#options, iceServers));
    if (this.#isClosed()) {
      await pc.close();
      throw new KvsError('ERR_SESSION_CLOSED', 'Viewer: closed');
    }
    const link = new PeerLink(pc, 'master', (c) => this.signaling.sendIceCandidate(c), this.#log);
    this.#link = link;
    const restarter = this.#makeRestarter(link);
    let wasConnected = false;
    const connected = new Promise<void>((resolve, reject) => {
      link.on('statechange', (s) => {
        this.emit('connectionstatechange', s);
        if (s === 'connected') {
          if (!wasConnected) restarter?.watchCredentials(ice.credentialsExpireAt);
          wasConnected = true;
          resolve();
        }
        // Once connected, a lost path is restarted (the session ends on failed, or when the
        // restart gives up).
        if (s === 'disconnected' && wasConnected && restarter) {
          restarter.trigger('disconnected');
          return;
        }
        if (s === 'failed' || s === 'disconnected' || s === 'closed') {
          reject(
            new KvsError(
              'ERR_SESSION_FAILED',
              `Viewer ${this.clientId}: the peer connection went ${s}` +
                (pc.failureReason ? ` (${pc.failureReason.message})` : ''),
            ),
          );
          void this.#end(s === 'closed' ? 'closed' : s);
        }
      });
    });
    // A rejection nobody awaits yet (the offer is still being made) is not unhandled.
    connected.catch(() => undefined);
    link.on('frame', (kind, f) => this.emit('frame', kind, f));
    link.on('keyframerequest', (r) => this.emit('keyframerequest', r));
    link.on('message', (m) => this.emit('message', m));
    const direction = this.#options.direction ?? 'sendrecv';
    for (const t of this.tracks) {
      await pc.addTransceiver({
        kind: t.kind,
        codecs: [t.codec],
        direction,
        ...(t.trackId !== undefined ? { trackId: t.trackId } : {}),
        ...(t.streamId !== undefined ? { streamId: t.streamId } : {}),
      });
    }
    const label = this.#options.dataChannel ?? DEFAULT_LABEL;
    if (label !== false) {
      const ch = pc.createDataChannel(label);
      this.#channel = ch;
      link.addChannel(ch);
      ch.on('open', () => this.emit('open'));
    }
    const offer = await pc.createOffer();
    await link.applyLocal(offer);
    await socket;
    await this.signaling.sendSdpOffer(offer);
    this.#timeline.offerSent = performance.now();
    const timeoutMs = this.#options.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KvsError(
              'ERR_SESSION_TIMEOUT',
              this.#timeline.answerReceived === undefined
                ? `Viewer ${this.clientId}: no answer from the master in ${timeoutMs} ms ` +
                    '(is a master connected to the channel, and under its viewer limit?)'
                : `Viewer ${this.clientId}: not connected ${timeoutMs} ms after the offer ` +
                    `(state ${pc.connectionState}; with iceTransportPolicy "relay", are TURN servers configured?)`,
            ),
          ),
        timeoutMs,
      );
    });
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener(
        'abort',
        () => reject(new KvsError('ERR_ABORTED', 'Viewer: aborted')),
        {
          once: true,
        },
      );
    });
    try {
      await Promise.race([connected, deadline, aborted]);
    } finally {
      clearTimeout(timer);
    }
  }

  #makeRestarter(link: PeerLink): IceRestarter | undefined {
    const options = this.#options.iceRestart;
    if (options === false) return undefined;
    const restarter = new IceRestarter(
      {
        link,
        iceConfig: async () => {
          const c = await this.signaling.getIceConfig();
          return {
            servers: peerConfigOf(this.#options, c.servers).iceServers ?? [],
            credentialsExpireAt: c.credentialsExpireAt,
          };
        },
        sendOffer: async (offer) => {
          await this.signaling.sendSdpOffer(offer);
        },
        log: this.#log,
        restarted: (reason, ms) => {
          this.#log.info(`ICE restart (${reason}) connected again in ${Math.round(ms)} ms`);
          this.emit('icerestart', { reason, ms, count: link.counters.iceRestarts });
        },
        gaveUp: (_reason, error) => {
          this.#error(error);
          void this.#end('failed');
        },
      },
      options,
    );
    this.#restarter = restarter;
    link.pc.on('relayfailed', (f) => {
      this.#log.warn(`TURN ${f.url} failed${f.inUse ? ' (in use)' : ''}: ${f.error.message}`);
      if (f.inUse && link.state === 'connected') restarter.trigger('relay-failed');
    });
    return restarter;
  }

  /** Read afresh (not narrowed): close() may run while an await is pending. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #onAnswer(answer: SessionDescription): void {
    const link = this.#link;
    if (!link || this.#closed) return;
    // An answer with no offer of ours pending (a restart's offer answered twice, or late):
    // applying it would fail the session for nothing.
    if (link.pc.signalingState !== 'have-local-offer') {
      this.#log.debug('an answer with no offer pending: ignored');
      return;
    }
    this.#timeline.answerReceived ??= performance.now();
    link.applyRemote(answer).catch((e: unknown) => {
      this.#error(KvsError.fromNative(e, `Viewer ${this.clientId}: the answer`));
      void this.#end('failed');
    });
  }

  /** Sends a frame of `kind` to the master (a sendrecv track); false when it was not taken. */
  writeFrame(kind: MediaKind, frame: Frame): boolean {
    // Checked before connect too: a bad frame is found on the first call.
    checkKind(kind, 'writeFrame');
    checkFrame(frame);
    return (this.#link?.writeFrame(kind, frame) ?? 0) > 0;
  }

  /** Sends a data-channel message; throws ERR_INVALID_STATE when the channel is not open. */
  sendMessage(data: string | Buffer | Uint8Array): void {
    checkMessage(data, 'sendMessage');
    const ch = this.#channel;
    if (!ch)
      throw new KvsError(
        'ERR_INVALID_STATE',
        this.#options.dataChannel === false
          ? 'Viewer: sendMessage: made without a data channel (dataChannel: false)'
          : 'Viewer: sendMessage: no data channel yet (connect() makes it)',
      );
    ch.send(data);
  }

  async getStats(): Promise<Map<string, Stats>> {
    const link = this.#link;
    return link ? link.pc.getStats() : new Map();
  }

  /** Reads the statistics and summarises them. */
  async metrics(): Promise<LinkMetrics | undefined> {
    const link = this.#link;
    if (!link) return undefined;
    if (link.closed) return link.lastStats?.metrics;
    return link.poll();
  }

  #error(e: KvsError): void {
    this.#log.warn(e.message);
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  async #end(reason: 'closed' | 'failed' | 'disconnected'): Promise<void> {
    if (this.#ended) return;
    this.#ended = reason;
    this.#restarter?.close();
    await this.#link?.close();
    this.emit('close', reason);
  }

  /** Closes the peer connection and leaves the channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejoin.stop();
    await this.#end('closed');
    await this.signaling.close();
  }
}

const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose) {
  Object.defineProperty(Viewer.prototype, asyncDispose, {
    value: function (this: Viewer) {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}
