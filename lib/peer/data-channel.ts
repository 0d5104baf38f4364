import { EventEmitter } from 'node:events';
import { checkFunction, checkInstance } from '../args.js';
import { KvsError } from '../errors.js';
import type { NativePeerConnection } from '../native.js';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/** RTCDataChannelInit, with the C SDK's names. */
export interface DataChannelInit {
  /** In order (the default), or as they arrive. */
  ordered?: boolean;
  /** Partial reliability (RFC 3758): give up after this many ms. At most one of the two. */
  maxPacketLifeTime?: number;
  /** Partial reliability: give up after this many retransmissions. */
  maxRetransmits?: number;
  /** The subprotocol, up to 65535 bytes of UTF-8. */
  protocol?: string;
  /** Both sides create the channel with the same `id`; nothing is sent to open it. */
  negotiated?: boolean;
  /** Required when negotiated: 0-65534. Otherwise chosen by DTLS role (even or odd). */
  id?: number;
}

export interface DataChannelEvents {
  open: [];
  /** A message: a string when the peer sent text, a Buffer when it sent binary. */
  message: [string | Buffer];
  bufferedamountlow: [];
  closing: [];
  close: [];
  error: [KvsError];
}

/** What a send accepts: text, or bytes in any of Node's forms. */
export type DataChannelMessage = string | Buffer | ArrayBuffer | ArrayBufferView;

/**
 * Bytes queued on one channel (sent and not yet taken by SCTP) beyond which send() refuses,
 * so that an app that ignores back-pressure learns of it instead of exhausting memory.
 */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * A data channel (W3C RTCDataChannel's shape). Made at once by `pc.createDataChannel()`, or
 * announced by the connection's `datachannel` event when the peer opens one. Messages of any
 * size up to the peer's max-message-size; back-pressure through `bufferedAmount`,
 * `bufferedAmountLowThreshold` and `bufferedamountlow`.
 */
export class DataChannel extends EventEmitter<DataChannelEvents> {
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly maxRetransmits: number | null;
  readonly negotiated: boolean;
  #native: NativePeerConnection;
  #handle: number;
  #id: number | null;
  #state: DataChannelState = 'connecting';
  #openEmitted = false;
  #threshold = 0;
  #maxMessageSize = 65536;

  /** @internal made by PeerConnection */
  constructor(
    native: NativePeerConnection,
    handle: number,
    label: string,
    init: DataChannelInit & { id?: number | null },
  ) {
    super();
    this.#native = native;
    this.#handle = handle;
    this.label = label;
    this.protocol = init.protocol ?? '';
    this.ordered = init.ordered ?? true;
    this.maxPacketLifeTime = init.maxPacketLifeTime ?? null;
    this.maxRetransmits = init.maxRetransmits ?? null;
    this.negotiated = init.negotiated ?? false;
    this.#id = init.id ?? null;
  }

  /** The SCTP stream id: null until known for an in-band channel. */
  get id(): number | null {
    return this.#id;
  }
  get readyState(): DataChannelState {
    return this.#state;
  }
  /** Bytes sent on this channel that SCTP has not handed to the network yet. */
  get bufferedAmount(): number {
    if (this.#state === 'closed') return 0;
    return this.#native.dataChannelBufferedAmount(this.#handle);
  }
  get bufferedAmountLowThreshold(): number {
    return this.#threshold;
  }
  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_BUFFERED_BYTES) {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        `bufferedAmountLowThreshold must be an integer 0..${MAX_BUFFERED_BYTES}, got ${bytes}`,
      );
    }
    this.#threshold = bytes;
    if (this.#state !== 'closed') this.#native.dataChannelSetThreshold(this.#handle, bytes);
  }
  /** The largest message the peer takes (its a=max-message-size; 0: no limit). */
  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  /**
   * Queues a message. It never fails because the peer is slow: watch `bufferedAmount`. It
   * throws (KvsError) when the channel is not open, when the message is over the peer's
   * max-message-size, or when more than MAX_BUFFERED_BYTES would be queued.
   */
  send(data: DataChannelMessage): void {
    if (this.#state !== 'open') {
      throw new KvsError(
        'ERR_INVALID_STATE',
        `send: data channel "${this.label}" is ${this.#state}, not open`,
      );
    }
    let payload: string | Uint8Array;
    if (typeof data === 'string') payload = data;
    else if (data instanceof Uint8Array) payload = data;
    else if (data instanceof ArrayBuffer) payload = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) {
      payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else {
      throw new KvsError(
        'ERR_INVALID_ARGUMENT',
        'send: data must be a string, Buffer, ArrayBuffer or typed array',
      );
    }
    const size =
      typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
    if (this.#maxMessageSize !== 0 && size > this.#maxMessageSize) {
      throw new KvsError(
        'ERR_DATACHANNEL_MESSAGE_TOO_LARGE',
        `send: a message of ${size} bytes is over the peer's max-message-size of ${this.#maxMessageSize} bytes`,
      );
    }
    const queued = this.bufferedAmount;
    if (queued + size > MAX_BUFFERED_BYTES) {
      throw new KvsError(
        'ERR_DATACHANNEL_QUEUE_FULL',
        `send: ${queued} bytes are queued on "${this.label}"; ${size} more would pass the ${MAX_BUFFERED_BYTES}-byte bound (wait for bufferedamountlow)`,
      );
    }
    if (!this.#native.dataChannelSend(this.#handle, payload)) {
      // The connection closed under this channel before its close event reached it.
      throw new KvsError(
        'ERR_INVALID_STATE',
        `send: data channel "${this.label}" is closed, not open (its connection closed)`,
      );
    }
  }

  /** Closes this channel alone (a stream reset); the others are untouched. */
  close(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'closing';
    this.#native.dataChannelClose(this.#handle);
  }

  /** @internal a channel the peer opened is open when announced (W3C); `open` follows. */
  announcedOpen(maxMessageSize: number): void {
    this.#state = 'open';
    this.#maxMessageSize = maxMessageSize;
  }

  /** @internal events from the connection */
  onNative(event: 'open', id: number, maxMessageSize: number): void;
  onNative(event: 'message', data: string | Buffer): void;
  onNative(event: 'bufferedamountlow' | 'closing' | 'close'): void;
  onNative(event: 'error', error: Error): void;
  onNative(event: string, a?: unknown, b?: unknown): void {
    switch (event) {
      case 'open':
        this.#id = a as number;
        this.#maxMessageSize = b as number;
        if (this.#state === 'connecting') this.#state = 'open';
        if (this.#state === 'open' && !this.#openEmitted) {
          this.#openEmitted = true;
          this.emit('open');
        }
        break;
      case 'message':
        this.emit('message', a as string | Buffer);
        break;
      case 'bufferedamountlow':
        this.emit('bufferedamountlow');
        break;
      case 'closing':
        if (this.#state !== 'closed') {
          this.#state = 'closing';
          this.emit('closing');
        }
        break;
      case 'close':
        if (this.#state !== 'closed') {
          this.#state = 'closed';
          this.emit('close');
        }
        break;
      case 'error': {
        const err = KvsError.fromNative(a, `data channel "${this.label}"`);
        if (this.listenerCount('error') > 0) this.emit('error', err);
        break;
      }
    }
  }
}

// The C SDK's names, for those who know them.
export function dataChannelSend(
  channel: DataChannel,
  isBinary: boolean,
  bytes: Buffer | Uint8Array | string,
): void {
  checkInstance(channel, DataChannel, 'dataChannelSend: channel', 'DataChannel');
  const raw: unknown = bytes;
  if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      'dataChannelSend: bytes must be a string, Buffer or Uint8Array',
    );
  }
  const data =
    typeof bytes === 'string'
      ? isBinary
        ? Buffer.from(bytes, 'utf8')
        : bytes
      : isBinary
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  channel.send(data);
}
export function dataChannelOnMessage(
  channel: DataChannel,
  callback: (isBinary: boolean, data: Buffer) => void,
): void {
  checkInstance(channel, DataChannel, 'dataChannelOnMessage: channel', 'DataChannel');
  checkFunction(callback, 'dataChannelOnMessage: callback');
  channel.on('message', (m) =>
    typeof m === 'string' ? callback(false, Buffer.from(m, 'utf8')) : callback(true, m),
  );
}
export function dataChannelOnOpen(channel: DataChannel, callback: () => void): void {
  checkInstance(channel, DataChannel, 'dataChannelOnOpen: channel', 'DataChannel');
  checkFunction(callback, 'dataChannelOnOpen: callback');
  channel.on('open', callback);
}
