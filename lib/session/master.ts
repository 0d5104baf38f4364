/**
 * Master: the device side of a channel, as the C SDK's kvsWebrtcClientMaster sample is. One
 * signaling client as MASTER; one peer connection per viewer, keyed by the viewer's client
 * id; `writeFrame(kind, frame)` fans a frame out to every connected viewer, each with its own
 * sequence numbers and SRTP (the native core numbers and protects per connection).
 *
 * - A repeated client id replaces the old session: the old connection is closed and its
 *   listeners removed before the new one is made. Unless its offer keeps the DTLS
 *   fingerprint: that is an ICE restart, answered on the same connection with fresh ICE
 *   servers (`icerestart`).
 * - ICE candidates that arrive before their viewer's offer are held for `candidateHoldMs`
 *   (20 s), in the signaling client and here; ICE is trickled both ways, with the ICE servers
 *   the signaling client fetched for the channel.
 * - A viewer that joins mid-stream starts at the next key frame (the core discards frames for
 *   it until then) and the app hears `keyframerequest`, so that it can make one at once.
 * - Sessions end on failure (a disconnected one waits for the viewer's ICE restart until the
 *   failed timeout), the viewer closing its side, or close(); the limit
 *   `maxViewers` (10) is enforced: an offer beyond it gets no answer and `viewerrefused`.
 */
import { EventEmitter } from 'node:events';
import { KvsError } from '../errors.js';
import type { Frame, ReceivedFrame } from '../media/frame.js';
import type { PeerIceServer } from '../peer/config.js';
import type { DataChannel } from '../peer/data-channel.js';
import {
  PeerConnection,
  type IceCandidate,
  type PeerConnectionState,
  type SessionDescription,
} from '../peer/peer-connection.js';
import type { KeyFrameReason, MediaKind } from '../peer/transceiver.js';
import { SignalingClient } from '../signaling/client.js';
import type { Logger } from '../signaling/logger.js';
import type { LinkMetrics } from './metrics.js';
import { checkNumber, checkSignal, MAX_TIMER_MS } from '../args.js';
import { checkFrame } from '../media/frame.js';
import { checkClientId } from '../signaling/codec.js';
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
import { PeerLink } from './peer-link.js';
import { fingerprintOf } from './ice-restart.js';
import { Rejoiner } from './rejoin.js';

export interface MasterOptions extends SessionOptions {
  /** At most this many viewer sessions at once (the C SDK's sample: 10). */
  maxViewers?: number;
  /** How long candidates wait for their viewer's offer. Default 20 s. */
  candidateHoldMs?: number;
  /** Create the channel when it does not exist (as the C SDK does). Default true. */
  createIfMissing?: boolean;
  /**
   * How often each connected session's statistics are read (ms): they give `metrics()` and
   * show a viewer that closed its side (DTLS close_notify). Default 1000.
   */
  statsIntervalMs?: number;
}

/** Why a session ended. */
export type ViewerLeftReason =
  /**
   * Not emitted any more: a disconnected session waits for the viewer's ICE restart, and
   * ends `failed` after the failed timeout. Kept in the type for apps that match on it.
   */
  | 'disconnected'
  /** Its peer connection failed (ICE, DTLS), or setting it up failed. */
  | 'failed'
  /** The viewer closed its side (DTLS close_notify). */
  | 'left'
  /** The same client id made a new offer with another DTLS fingerprint: a new session. */
  | 'replaced'
  /** Master.close() or closeViewer(). */
  | 'closed';

export interface MasterEvents {
  /** A viewer's peer connection is connected ("Connection established"). */
  viewer: [viewerId: string, session: ViewerSession];
  /** A session ended; emitted for every session that was made, connected or not. */
  viewerleft: [viewerId: string, reason: ViewerLeftReason];
  /** An offer beyond maxViewers: no answer was sent. */
  viewerrefused: [viewerId: string, info: { reason: 'max-viewers'; maxViewers: number }];
  /** A viewer needs a key frame of `kind`: produce one now (then writeFrame it). */
  keyframerequest: [request: { kind: MediaKind; viewerId: string; reason: KeyFrameReason }];
  /** A data channel a viewer opened. */
  datachannel: [channel: DataChannel, viewerId: string];
  /** A data-channel message from a viewer. */
  message: [data: string | Buffer, viewerId: string, channel: DataChannel];
  /** A whole frame a viewer sent (its sendrecv tracks). */
  frame: [kind: MediaKind, frame: ReceivedFrame, viewerId: string];
  viewerstatechange: [viewerId: string, state: PeerConnectionState];
  /** A viewer restarted ICE (a new offer, same DTLS fingerprint): answered on its connection. */
  icerestart: [viewerId: string, session: ViewerSession];
  /** A background failure (a session that could not be set up, a signaling error). */
  error: [error: KvsError, viewerId?: string];
}

/** One viewer's session. */
export class ViewerSession {
  readonly viewerId: string;
  /** Set once the peer connection exists (a few ms after the offer). */
  link: PeerLink | undefined;
  readonly offerAt = performance.now();
  /** Candidates that came before the link existed. */
  readonly early: IceCandidate[] = [];
  ended: ViewerLeftReason | undefined;
  announced = false;
  /** ICE restarts the viewer asked for, answered one after the other. */
  restarts: Promise<void> = Promise.resolve();

  constructor(viewerId: string) {
    this.viewerId = checkClientId(viewerId, 'ViewerSession: viewerId');
  }

  get peerConnection(): PeerConnection | undefined {
    return this.link?.pc;
  }

  get state(): PeerConnectionState {
    return this.ended ? 'closed' : (this.link?.state ?? 'new');
  }

  /** The figures of the last statistics poll. */
  get metrics(): LinkMetrics | undefined {
    return this.link?.lastStats?.metrics;
  }
}

/** Read afresh (not narrowed): a session may end while an await is pending. */
const isEnded = (s: ViewerSession): boolean => s.ended !== undefined;

const DEFAULT_MAX_VIEWERS = 10;
const DEFAULT_HOLD_MS = 20_000;
/** Senders tracked for early candidates, and candidates per sender (memory bounds). */
const MAX_EARLY_SENDERS = 256;
const MAX_EARLY_PER_SENDER = 100;

export class Master extends EventEmitter<MasterEvents> {
  declare [Symbol.asyncDispose]: () => Promise<void>;
  readonly signaling: SignalingClient;
  readonly maxViewers: number;
  readonly tracks: readonly TrackSpec[];
  /** Offers refused for the viewer limit, so far. */
  refusedCount = 0;
  readonly #options: MasterOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, ViewerSession>();
  /** Candidates of senders with no session yet: held for candidateHoldMs. */
  readonly #early = new Map<string, { at: number; list: IceCandidate[] }>();
  readonly #holdMs: number;
  readonly #statsIntervalMs: number;
  readonly #framesWritten: Record<MediaKind, number> = { video: 0, audio: 0 };
  /** Answers in flight, by correlationId: resent when the service could not deliver them. */
  readonly #answers = new Map<
    string,
    { session: ViewerSession; answer: SessionDescription; attempts: number }
  >();
  #answerCount = 0;
  #statsTimer: NodeJS.Timeout | undefined;
  readonly #rejoin: Rejoiner;
  #started = false;
  #closed = false;

  constructor(options: MasterOptions) {
    super();
    const raw: unknown = options;
    if (typeof raw !== 'object' || raw === null) {
      throw new KvsError('ERR_INVALID_ARGUMENT', 'Master: options must be an object');
    }
    this.#options = options;
    this.tracks = checkTracks(options.tracks, 'Master');
    checkSessionOptions(options, 'Master');
    const max = options.maxViewers ?? DEFAULT_MAX_VIEWERS;
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `Master: maxViewers must be an integer 1..1000, got ${String(max)}`,
      );
    }
    this.maxViewers = max;
    this.#holdMs =
      checkNumber(options.candidateHoldMs, 'Master: candidateHoldMs', {
        min: 0,
        max: MAX_TIMER_MS,
      }) ?? DEFAULT_HOLD_MS;
    this.#statsIntervalMs =
      checkNumber(options.statsIntervalMs, 'Master: statsIntervalMs', {
        min: 50,
        max: MAX_TIMER_MS,
      }) ?? 1000;
    checkBooleanOption(options.createIfMissing, 'Master: createIfMissing');
    this.#log = sessionLogger(options, 'kvs-master');
    this.signaling = new SignalingClient(
      signalingOptionsOf(options, 'MASTER', {
        createIfMissing: options.createIfMissing ?? true,
        candidateHoldMs: this.#holdMs,
        logger: this.#log,
      }),
    );
    this.signaling.on('sdpOffer', (offer, from) => this.#onOffer(offer, from));
    this.signaling.on('iceCandidate', (c, from) => this.#onCandidate(c, from));
    this.signaling.on('error', (e) => this.#error(e));
    this.signaling.on('statusResponse', (st) => this.#onStatus(st.correlationId, st.errorType));
    // After the signaling client gave up: join again, 1 s doubling to a minute apart.
    this.#rejoin = new Rejoiner({
      signaling: this.signaling,
      log: this.#log,
      what: 'Master',
      enabled: options.signaling?.reconnect !== false,
      wanted: () => this.#started && !this.#closed,
      error: (e) => this.#error(e),
    });
  }

  /** Joins the channel (signaling CONNECTED) and fetches its ICE servers. */
  async start(signal?: AbortSignal): Promise<void> {
    checkSignal(signal, 'Master.start');
    if (this.#closed) throw new KvsError('ERR_SESSION_CLOSED', 'Master: closed');
    if (this.#started) return;
    await this.signaling.connect(signal);
    // Fetched now so that the first viewer does not wait for it.
    await this.signaling.getIceServers(signal);
    this.#started = true;
    this.#statsTimer = setInterval(() => void this.#pollAll(), this.#statsIntervalMs);
    this.#statsTimer.unref();
  }

  /** The sessions, by viewer client id. */
  get viewers(): ReadonlyMap<string, ViewerSession> {
    return this.#sessions;
  }

  /** Sessions whose peer connection is connected. */
  get connectedCount(): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.state === 'connected') n++;
    return n;
  }

  /** Frames handed to writeFrame per kind that reached at least one viewer. */
  get framesWritten(): Readonly<Record<MediaKind, number>> {
    return this.#framesWritten;
  }

  /**
   * Sends one frame of `kind` to every viewer whose connection is up or coming up (the C
   * SDK's writeFrame on each session's transceiver). Returns how many viewers took it. The
   * bytes are copied once per viewer; the buffer may be reused at once.
   */
  writeFrame(kind: MediaKind, frame: Frame): number {
    // Checked with no viewer too: a bad frame is found on the first call, not the first viewer's.
    checkKind(kind, 'writeFrame');
    checkFrame(frame);
    if (this.#closed) return 0;
    let n = 0;
    for (const s of this.#sessions.values()) {
      const link = s.link;
      if (!link || s.ended) continue;
      const st = link.state;
      if (st !== 'connecting' && st !== 'connected') continue;
      if (link.writeFrame(kind, frame) > 0) n++;
    }
    if (n > 0) this.#framesWritten[kind]++;
    return n;
  }

  /**
   * Sends a data-channel message to one viewer, or to every viewer with an open channel.
   * Returns how many viewers it was sent to.
   */
  sendMessage(data: string | Buffer | Uint8Array, viewerId?: string): number {
    checkMessage(data, 'sendMessage');
    if (viewerId !== undefined) checkClientId(viewerId, 'sendMessage: viewerId');
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (viewerId !== undefined && s.viewerId !== viewerId) continue;
      if (s.link?.send(data)) n++;
    }
    return n;
  }

  /** Ends one viewer's session. */
  async closeViewer(viewerId: string): Promise<void> {
    checkClientId(viewerId, 'closeViewer: viewerId');
    const s = this.#sessions.get(viewerId);
    if (s) await this.#end(s, 'closed');
  }

  /** Every session's figures from the last statistics poll. */
  metrics(): Map<string, LinkMetrics | undefined> {
    return new Map([...this.#sessions].map(([id, s]) => [id, s.metrics]));
  }

  // ---- signaling in ----

  #onOffer(offer: SessionDescription, viewerId: string): void {
    if (this.#closed) return;
    const old = this.#sessions.get(viewerId);
    if (old && this.#isRestart(old, offer)) {
      this.#restartFor(old, offer);
      return;
    }
    if (old) {
      this.#log.info(`${viewerId}: a new offer replaces its session`);
      void this.#end(old, 'replaced');
    } else if (this.#sessions.size >= this.maxViewers) {
      this.refusedCount++;
      this.#early.delete(viewerId);
      this.#log.warn(
        `${viewerId}: refused, ${this.#sessions.size} viewers already (maxViewers ${this.maxViewers})`,
      );
      this.emit('viewerrefused', viewerId, { reason: 'max-viewers', maxViewers: this.maxViewers });
      return;
    }
    // Made at once, so that candidates released right after the offer find it.
    const session = new ViewerSession(viewerId);
    this.#sessions.set(viewerId, session);
    const early = this.#takeEarly(viewerId);
    session.early.push(...early);
    this.#setUp(session, offer).catch((e: unknown) => {
      if (session.ended) return;
      const err =
        e instanceof KvsError
          ? e
          : new KvsError('ERR_SESSION_FAILED', `${viewerId}: ${String(e)}`, { cause: e });
      this.#error(err, viewerId);
      void this.#end(session, 'failed');
    });
  }

  /**
   * A new offer on a live, set-up session with the same DTLS fingerprint is an ICE restart
   * (the viewer's path changed): the same connection answers it. A different fingerprint is
   * a new connection, and replaces the session.
   */
  #isRestart(session: ViewerSession, offer: SessionDescription): boolean {
    const pc = session.link?.pc;
    if (!pc || session.ended || !session.announced) return false;
    const current = pc.remoteDescription;
    if (!current) return false;
    const before = fingerprintOf(current.sdp);
    return before !== undefined && before === fingerprintOf(offer.sdp);
  }

  #restartFor(session: ViewerSession, offer: SessionDescription): void {
    const link = session.link;
    if (!link) return;
    // The viewer's new candidates follow its offer: held until the offer is applied, or
    // they would go with the old generation.
    link.expectRemote();
    const id = session.viewerId;
    const started = performance.now();
    session.restarts = session.restarts.then(async () => {
      try {
        const iceServers = await this.#iceServers();
        if (isEnded(session)) return;
        await link.pc.setConfiguration({
          iceServers: peerConfigOf(this.#options, iceServers).iceServers ?? [],
        });
        await link.applyRemote(offer);
        const answer = await link.pc.createAnswer();
        if (isEnded(session)) return;
        await link.applyLocal(answer);
        if (isEnded(session)) return;
        await this.#sendAnswer(session, answer, 1);
        link.counters.iceRestarts++;
        this.#log.info(
          `${id}: ICE restart answered in ${Math.round(performance.now() - started)} ms`,
        );
        this.emit('icerestart', id, session);
      } catch (e) {
        if (isEnded(session)) return;
        this.#error(KvsError.fromNative(e, `${id}: ICE restart`), id);
        await this.#end(session, 'failed');
      }
    });
  }

  #onCandidate(c: IceCandidate, from: string): void {
    if (this.#closed) return;
    const s = this.#sessions.get(from);
    if (s && !s.ended) {
      if (s.link) s.link.addRemoteCandidate(c);
      else s.early.push(c);
      return;
    }
    // Before its offer (or for a viewer refused a moment ago): held for candidateHoldMs.
    const now = Date.now();
    this.#expireEarly(now);
    let entry = this.#early.get(from);
    if (!entry) {
      if (this.#early.size >= MAX_EARLY_SENDERS) return;
      entry = { at: now, list: [] };
      this.#early.set(from, entry);
    }
    if (entry.list.length < MAX_EARLY_PER_SENDER) entry.list.push(c);
  }

  #expireEarly(now: number): void {
    for (const [id, e] of this.#early) if (now - e.at > this.#holdMs) this.#early.delete(id);
  }

  #takeEarly(viewerId: string): IceCandidate[] {
    this.#expireEarly(Date.now());
    const e = this.#early.get(viewerId);
    this.#early.delete(viewerId);
    return e?.list ?? [];
  }

  // ---- one session ----

  async #iceServers(): Promise<PeerIceServer[]> {
    return this.signaling.getIceServers();
  }

  async #setUp(session: ViewerSession, offer: SessionDescription): Promise<void> {
    const id = session.viewerId;
    const live = () => !session.ended && !this.#closed && this.#sessions.get(id) === session;
    const iceServers = await this.#iceServers();
    if (!live()) return;
    const pc = await PeerConnection.create(peerConfigOf(this.#options, iceServers));
    if (!live()) {
      await pc.close();
      return;
    }
    const link = new PeerLink(pc, id, (c) => this.signaling.sendIceCandidate(c, id), this.#log);
    session.link = link;
    link.on('statechange', (s) => this.#onState(session, s));
    link.on('frame', (kind, f) => this.emit('frame', kind, f, id));
    link.on('keyframerequest', (r) =>
      this.emit('keyframerequest', { kind: r.kind, viewerId: id, reason: r.reason }),
    );
    link.on('datachannel', (ch) => this.emit('datachannel', ch, id));
    link.on('message', (m, ch) => this.emit('message', m, id, ch));
    for (const c of session.early.splice(0)) link.addRemoteCandidate(c);
    await link.applyRemote(offer);
    for (const t of this.tracks) {
      await pc.addTransceiver({
        kind: t.kind,
        codecs: [t.codec],
        direction: 'sendrecv',
        ...(t.trackId !== undefined ? { trackId: t.trackId } : {}),
        ...(t.streamId !== undefined ? { streamId: t.streamId } : {}),
      });
    }
    const answer = await pc.createAnswer();
    if (!live()) return;
    await link.applyLocal(answer);
    if (!live()) return;
    await this.#sendAnswer(session, answer, 1);
    this.#log.info(`${id}: answered`);
  }

  async #sendAnswer(
    session: ViewerSession,
    answer: SessionDescription,
    attempts: number,
  ): Promise<void> {
    const correlationId = `answer.${++this.#answerCount}`;
    // Bounded: entries go when answered for (#onStatus), or when their session ends (#end).
    if (!session.ended) this.#answers.set(correlationId, { session, answer, attempts });
    await this.signaling.sendSdpAnswer(answer, session.viewerId, { correlationId });
  }

  /**
   * The service could not deliver an answer (a rate limit at the edge of the pacing, most
   * often): sent again, at most three times, while its session lives and is not connected.
   */
  #onStatus(correlationId: string, errorType: string): void {
    const a = this.#answers.get(correlationId);
    if (!a) return;
    this.#answers.delete(correlationId);
    const { session } = a;
    if (session.ended || session.state === 'connected' || a.attempts >= 3) return;
    this.#log.warn(
      `${session.viewerId}: the answer was not delivered (${errorType}); sending it again`,
    );
    const timer = setTimeout(() => {
      if (session.ended || this.#closed) return;
      this.#sendAnswer(session, a.answer, a.attempts + 1).catch((e: unknown) => {
        if (!session.ended)
          this.#log.warn(`${session.viewerId}: resending the answer failed: ${String(e)}`);
      });
    }, 250 * a.attempts);
    timer.unref();
  }

  #onState(session: ViewerSession, state: PeerConnectionState): void {
    if (session.ended) return;
    this.emit('viewerstatechange', session.viewerId, state);
    if (state === 'connected' && !session.announced) {
      session.announced = true;
      this.#log.info(`${session.viewerId}: Connection established`);
      this.emit('viewer', session.viewerId, session);
    } else if (state === 'disconnected') {
      // The viewer restarts ICE when its path is lost: waited for. The session ends on
      // failed (the disconnected and failed timeouts, as the C SDK counts them).
      this.#log.info(`${session.viewerId}: disconnected; waiting for its ICE restart`);
    } else if (state === 'failed' || state === 'closed') {
      void this.#end(session, state);
    }
  }

  async #pollAll(): Promise<void> {
    await Promise.all(
      [...this.#sessions.values()].map(async (s) => {
        const link = s.link;
        if (!link || s.ended || link.state !== 'connected') return;
        try {
          await link.poll();
        } catch (e) {
          if (!isEnded(s)) this.#log.debug(`${s.viewerId}: getStats failed: ${String(e)}`);
          return;
        }
        // The viewer closed its side: DTLS got close_notify (the connection state stays
        // "connected" until consent freshness runs out, as W3C aggregates it).
        const transport = [...(link.lastStats?.stats.values() ?? [])].find(
          (x) => x.type === 'transport',
        );
        if (transport?.['dtlsState'] === 'closed' && !isEnded(s)) await this.#end(s, 'left');
      }),
    );
  }

  async #end(session: ViewerSession, reason: ViewerLeftReason): Promise<void> {
    if (session.ended) return;
    session.ended = reason;
    if (this.#sessions.get(session.viewerId) === session) this.#sessions.delete(session.viewerId);
    // An answer still awaiting its status would otherwise hold the ended session (and its
    // peer connection's JS side) until the next viewer's answer.
    for (const [cid, a] of this.#answers) if (a.session === session) this.#answers.delete(cid);
    this.#log.info(`${session.viewerId}: session ended (${reason})`);
    this.emit('viewerleft', session.viewerId, reason);
    await session.link?.close();
  }

  #error(e: KvsError, viewerId?: string): void {
    this.#log.warn(`${viewerId ? `${viewerId}: ` : ''}${e.message}`);
    if (this.listenerCount('error') > 0) this.emit('error', e, viewerId);
  }

  /** Ends every session and leaves the channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#rejoin.stop();
    await Promise.allSettled([...this.#sessions.values()].map((s) => this.#end(s, 'closed')));
    this.#early.clear();
    this.#answers.clear();
    await this.signaling.close();
  }
}

// `await using master = new Master(...)` where the runtime has Symbol.asyncDispose.
const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose) {
  Object.defineProperty(Master.prototype, asyncDispose, {
    value: function (this: Master) {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}
