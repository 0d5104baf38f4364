/**
 * One peer connection to one remote client, as Master (per viewer) and Viewer both need it:
 * candidates trickled out through signaling and in from it (held until the remote
 * description is applied), the transceivers by kind with their frame and key-frame events,
 * the data channels with their messages, the timeline and the counters, and a close that
 * lets go of everything.
 */
import { EventEmitter } from 'node:events';
import type { KvsError } from '../errors.js';
import type { ReceivedFrame, Frame } from '../media/frame.js';
import type { DataChannel } from '../peer/data-channel.js';
import type {
  IceCandidate,
  IceCandidateError,
  PeerConnection,
  PeerConnectionState,
  SessionDescription,
  Stats,
} from '../peer/peer-connection.js';
import type { KeyFrameReason, MediaKind, Transceiver } from '../peer/transceiver.js';
import type { Logger } from '../signaling/logger.js';
import { summarizeStats, type LinkMetrics } from './metrics.js';

export interface PeerLinkEvents {
  frame: [MediaKind, ReceivedFrame];
  keyframerequest: [{ kind: MediaKind; reason: KeyFrameReason }];
  datachannel: [DataChannel];
  message: [string | Buffer, DataChannel];
  statechange: [PeerConnectionState];
  error: [KvsError];
}

/** When things happened, in ms of performance.now(). */
export interface LinkTimeline {
  created: number;
  remoteDescription?: number;
  localDescription?: number;
  connected?: number;
  firstFrame: Partial<Record<MediaKind, number>>;
}

export interface LinkCounters {
  framesReceived: Record<MediaKind, number>;
  bytesReceived: Record<MediaKind, number>;
  /** Frames handed to the native writeFrame, per kind (it may still discard them). */
  framesWritten: Record<MediaKind, number>;
  candidatesSent: number;
  candidatesReceived: number;
  messagesReceived: number;
  /** ICE restarts completed on this connection (either side's). */
  iceRestarts: number;
}

/** Remote candidates held until the remote description is applied (bounded). */
const MAX_HELD_CANDIDATES = 200;

export class PeerLink extends EventEmitter<PeerLinkEvents> {
  readonly remoteId: string;
  readonly pc: PeerConnection;
  readonly timeline: LinkTimeline = { created: performance.now(), firstFrame: {} };
  readonly counters: LinkCounters = {
    framesReceived: { video: 0, audio: 0 },
    bytesReceived: { video: 0, audio: 0 },
    framesWritten: { video: 0, audio: 0 },
    candidatesSent: 0,
    candidatesReceived: 0,
    messagesReceived: 0,
    iceRestarts: 0,
  };
  /** The last statistics taken (poll()), with their time. */
  lastStats: { at: number; stats: Map<string, Stats>; metrics: LinkMetrics } | undefined;
  #held: IceCandidate[] = [];
  #remoteApplied = false;
  /** Our candidates held back (a restart's, until its offer is sent); undefined: not held. */
  #outgoing: IceCandidate[] | undefined;
  readonly #sendCandidate: (c: IceCandidate) => void;
  #closed = false;
  readonly #log: Logger;
  readonly #hooked = new Set<Transceiver>();
  readonly #channels = new Set<DataChannel>();
  readonly #cleanups: (() => void)[] = [];

  constructor(
    pc: PeerConnection,
    remoteId: string,
    sendCandidate: (c: IceCandidate) => Promise<unknown>,
    log: Logger,
  ) {
    super();
    this.pc = pc;
    this.remoteId = remoteId;
    this.#log = log;
    this.#sendCandidate = (c: IceCandidate): void => {
      this.counters.candidatesSent++;
      sendCandidate(c).catch((e: unknown) => {
        if (!this.#closed) log.warn(`${remoteId}: sending a candidate failed: ${String(e)}`);
      });
    };
    const onCandidate = (c: IceCandidate | null): void => {
      if (!c || this.#closed) return;
      if (this.#outgoing) {
        if (this.#outgoing.length < MAX_HELD_CANDIDATES) this.#outgoing.push(c);
        return;
      }
      this.#sendCandidate(c);
    };
    const onState = (s: PeerConnectionState): void => {
      if (s === 'connected') this.timeline.connected ??= performance.now();
      this.emit('statechange', s);
    };
    const onTrack = (t: Transceiver): void => this.#hook(t);
    const onChannel = (ch: DataChannel): void => {
      this.#addChannel(ch);
      this.emit('datachannel', ch);
    };
    const onError = (e: KvsError): void => {
      log.warn(`${remoteId}: ${e.message}`);
      if (this.listenerCount('error') > 0) this.emit('error', e);
    };
    // A TURN server that gives no allocation (refused credentials most often) is worth a
    // line in the log: the session goes on with the candidates the others gave.
    const onCandidateError = (e: IceCandidateError): void =>
      log.warn(`${remoteId}: no relay from ${e.url}: ${e.error.message}`);
    pc.on('icecandidate', onCandidate);
    pc.on('icecandidateerror', onCandidateError);
    pc.on('connectionstatechange', onState);
    pc.on('track', onTrack);
    pc.on('datachannel', onChannel);
    pc.on('error', onError);
    this.#cleanups.push(() => {
      pc.off('icecandidate', onCandidate);
      pc.off('icecandidateerror', onCandidateError);
      pc.off('connectionstatechange', onState);
      pc.off('track', onTrack);
      pc.off('datachannel', onChannel);
      pc.off('error', onError);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get state(): PeerConnectionState {
    return this.pc.connectionState;
  }

  /** The data channels of this link (opened by either side), open or not. */
  get dataChannels(): DataChannel[] {
    return [...this.#channels];
  }

  /**
   * A new remote description is coming (an ICE restart's offer): the remote client's
   * candidates are held until it is applied, as they would be lost with the old generation.
   */
  expectRemote(): void {
    this.#remoteApplied = false;
  }

  /** Our candidates wait until releaseOutgoing() (an ICE restart's, until its offer is sent). */
  holdOutgoing(): void {
    this.#outgoing ??= [];
  }

  releaseOutgoing(): void {
    const list = this.#outgoing ?? [];
    this.#outgoing = undefined;
    if (this.#closed) return;
    for (const c of list) this.#sendCandidate(c);
  }

  /** A candidate from the remote client: added now, or held until the remote description. */
  addRemoteCandidate(c: IceCandidate): void {
    if (this.#closed) return;
    this.counters.candidatesReceived++;
    if (!this.#remoteApplied) {
      if (this.#held.length < MAX_HELD_CANDIDATES) this.#held.push(c);
      return;
    }
    this.#add(c);
  }

  #add(c: IceCandidate): void {
    this.pc.addIceCandidate(c).catch((e: unknown) => {
      if (!this.#closed) this.#log.warn(`${this.remoteId}: addIceCandidate failed: ${String(e)}`);
    });
  }

  /** Applies the remote description, then the candidates held for it, in order. */
  async applyRemote(description: SessionDescription): Promise<void> {
    await this.pc.setRemoteDescription(description);
    this.timeline.remoteDescription = performance.now();
    this.#remoteApplied = true;
    for (const c of this.#held.splice(0)) this.#add(c);
    this.hookTransceivers();
  }

  async applyLocal(description: SessionDescription): Promise<void> {
    await this.pc.setLocalDescription(description);
    this.timeline.localDescription = performance.now();
    this.hookTransceivers();
  }

  /** Listens to every transceiver the connection has (once each). */
  hookTransceivers(): void {
    for (const t of this.pc.getTransceivers()) this.#hook(t);
  }

  #hook(t: Transceiver): void {
    if (this.#hooked.has(t) || this.#closed) return;
    this.#hooked.add(t);
    const onFrame = (f: ReceivedFrame): void => {
      const kind = t.kind;
      this.counters.framesReceived[kind]++;
      this.counters.bytesReceived[kind] += f.frameData.length;
      this.timeline.firstFrame[kind] ??= performance.now();
      this.emit('frame', kind, f);
    };
    const onKey = (e: { reason: KeyFrameReason }): void => {
      this.emit('keyframerequest', { kind: t.kind, reason: e.reason });
    };
    const onError = (e: KvsError): void =>
      this.#log.warn(`${this.remoteId} ${t.kind}: ${e.message}`);
    t.on('frame', onFrame);
    t.on('keyframerequest', onKey);
    t.on('error', onError);
    this.#cleanups.push(() => {
      t.off('frame', onFrame);
      t.off('keyframerequest', onKey);
      t.off('error', onError);
    });
  }

  /** Tracks a data channel: its messages become this link's `message` events. */
  addChannel(ch: DataChannel): void {
    this.#addChannel(ch);
  }

  #addChannel(ch: DataChannel): void {
    if (this.#channels.has(ch)) return;
    this.#channels.add(ch);
    const onMessage = (m: string | Buffer): void => {
      this.counters.messagesReceived++;
      this.emit('message', m, ch);
    };
    const onClose = (): void => {
      this.#channels.delete(ch);
    };
    const onError = (e: KvsError): void =>
      this.#log.warn(`${this.remoteId} data channel: ${e.message}`);
    ch.on('message', onMessage);
    ch.on('close', onClose);
    ch.on('error', onError);
    this.#cleanups.push(() => {
      ch.off('message', onMessage);
      ch.off('close', onClose);
      ch.off('error', onError);
    });
  }

  /** The transceivers that send media of `kind` (those negotiated to send, or not yet). */
  sendersOf(kind: MediaKind): Transceiver[] {
    return this.pc
      .getTransceivers()
      .filter(
        (t) =>
          t.kind === kind &&
          (t.currentDirection === 'sendrecv' || t.currentDirection === 'sendonly'),
      );
  }

  /** Writes a frame to every sending transceiver of its kind; how many took it. */
  writeFrame(kind: MediaKind, frame: Frame): number {
    if (this.#closed) return 0;
    let n = 0;
    for (const t of this.sendersOf(kind)) {
      if (t.writeFrame(frame)) n++;
    }
    if (n > 0) this.counters.framesWritten[kind]++;
    return n;
  }

  /** Sends on the first open data channel; false when none is open. */
  send(data: string | Buffer | Uint8Array): boolean {
    for (const ch of this.#channels) {
      if (ch.readyState === 'open') {
        ch.send(data);
        return true;
      }
    }
    return false;
  }

  /** Takes the statistics now and keeps them as `lastStats`. */
  async poll(): Promise<LinkMetrics> {
    const stats = await this.pc.getStats();
    const metrics = summarizeStats(stats);
    this.lastStats = { at: performance.now(), stats, metrics };
    return metrics;
  }

  /** Stops listening to everything, closes the connection (and with it its channels). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = [];
    this.#outgoing = undefined;
    // The statistics as the connection ends, for a summary; never an error.
    for (const undo of this.#cleanups.splice(0)) undo();
    this.#hooked.clear();
    this.#channels.clear();
    await this.pc.close();
    try {
      const stats = await this.pc.getStats();
      this.lastStats = { at: performance.now(), stats, metrics: summarizeStats(stats) };
    } catch {
      // getStats after close answers the final figures; nothing to add if it cannot.
    }
    this.removeAllListeners();
  }
}
