/**
 * The outgoing side: validates and encodes each message, keeps it in one FIFO queue paced to
 * the service's rates while the client is not connected (or is over its rate), hands it to
 * the socket, puts it back at the head when a write fails, and settles the caller's promise
 * once the message is written (or withdrawn by its AbortSignal, or the client closes).
 */
import { checkSignal, describeValue } from '../args.js';
import { invalidArgument, KvsError } from '../errors.js';
import {
  encodeOutgoing,
  type IceCandidate,
  type OutgoingAction,
  type SessionDescription,
  type SignalingRole,
} from './codec.js';
import { abortError, closedError } from './errors.js';
import type { Logger } from './logger.js';
import type { SignalingMetrics } from './metrics.js';
import { Pacer, type PaceClass, type PacerOptions } from './pacer.js';

export interface SendOptions {
  /** Your own correlationId (1-256 of [a-zA-Z0-9_.-]); one is generated otherwise. */
  correlationId?: string;
  /** Withdraws the message while it is still queued. */
  signal?: AbortSignal;
}

/** One queued message. */
export interface Outgoing {
  readonly text: string;
  readonly action: OutgoingAction;
  readonly recipient: string | undefined;
  readonly correlationId: string;
  resolve(correlationId: string): void;
  reject(e: Error): void;
}

/**
 * Writes one message to the live socket; returns false when there is none (the message then
 * waits). `done` reports the write's outcome.
 */
export type SocketWriter = (text: string, done: (err?: Error) => void) => boolean;

const CLASS_OF: Readonly<Record<OutgoingAction, PaceClass>> = {
  SDP_OFFER: 'sdp',
  SDP_ANSWER: 'sdp',
  ICE_CANDIDATE: 'ice',
};

export interface SendQueueOptions {
  role: SignalingRole;
  pacer: PacerOptions;
  metrics: SignalingMetrics;
  log: Logger;
  /** Called for each message once written, before its promise resolves. */
  onWritten(item: Outgoing, now: number): void;
}

export class SendQueue {
  private readonly pacer: Pacer<Outgoing>;
  private correlationCounter = 0;

  constructor(private readonly o: SendQueueOptions) {
    this.pacer = new Pacer<Outgoing>(o.pacer);
  }

  /** Messages waiting to be sent. */
  get length(): number {
    return this.pacer.length;
  }

  private nextCorrelationId(): string {
    this.correlationCounter = (this.correlationCounter + 1) % Number.MAX_SAFE_INTEGER;
    return `${Date.now().toString(36)}.${this.correlationCounter}`;
  }

  /** Validates, queues and (when a socket is live) sends; resolves with the correlationId. */
  send(
    action: OutgoingAction,
    payload: SessionDescription | IceCandidate,
    recipientClientId: string | undefined,
    options: SendOptions = {},
  ): Promise<string> {
    const raw: unknown = options;
    if (typeof raw !== 'object' || raw === null)
      return Promise.reject(
        invalidArgument(`send options must be an object, got ${describeValue(raw)}`),
      );
    try {
      checkSignal(options.signal, 'send options');
    } catch (e) {
      return Promise.reject(asKvsError(e));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    let text: string;
    const correlationId = options.correlationId ?? this.nextCorrelationId();
    try {
      text = encodeOutgoing({ action, payload, recipientClientId, correlationId }, this.o.role);
    } catch (e) {
      this.o.metrics.error(false);
      return Promise.reject(asKvsError(e));
    }
    return new Promise<string>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        if (this.pacer.remove((i) => i === item) > 0) reject(abortError());
      };
      const item: Outgoing = {
        text,
        action,
        recipient: recipientClientId,
        correlationId,
        resolve: (id) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(id);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.pacer.enqueue(CLASS_OF[action], item);
      } catch (e) {
        this.o.metrics.error(false);
        item.reject(asKvsError(e));
      }
    });
  }

  /** Starts delivering to `write` (a socket is up). */
  resume(write: SocketWriter): void {
    this.pacer.resume((item) =>
      write(item.text, (err) => {
        if (err) {
          // The socket died under the write: the message goes first once reconnected.
          this.o.log.debug(`write failed (${err.message}); requeued`);
          this.pacer.unshift(CLASS_OF[item.action], item);
          return;
        }
        this.o.onWritten(item, Date.now());
        item.resolve(item.correlationId);
      }),
    );
  }

  /** Stops delivery; messages wait. */
  pause(): void {
    this.pacer.pause();
  }

  /** Rejects every queued message: the client is closed. */
  rejectAll(): void {
    for (const item of this.pacer.drainAll()) item.reject(closedError());
  }
}

/** The codec and the pacer throw KvsErrors; anything else would be a bug, kept as the cause. */
function asKvsError(e: unknown): KvsError {
  return e instanceof KvsError
    ? e
    : new KvsError('ERR_INVALID_ARGUMENT', `signaling message refused: ${String(e)}`, {
        cause: e,
      });
}
