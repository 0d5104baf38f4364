/**
 * SignalingClientStats, as `signalingClientGetMetrics` reports them (c-sdk.md §4 and the seed's
 * "Signaling Metrics" table). Durations and latencies are in the C SDK's unit, 100 ns.
 */

export const HUNDREDS_OF_NANOS_IN_A_MILLISECOND = 10_000;

/** What `getMetrics()` / `signalingClientGetMetrics()` return. Times in 100 ns units. */
export interface SignalingClientStats {
  /** Exponential moving average of control-plane call latency (describe, create, getEndpoint, delete). */
  cpApiCallLatency: number;
  /** Exponential moving average of data-plane call latency (getIceConfig). */
  dpApiCallLatency: number;
  /** How long the client object has existed. */
  signalingClientUptime: number;
  /** How long the current connection has been up; 0 when not connected. */
  connectionDuration: number;
  /** Offers, answers and ICE candidates written to the socket. */
  numberOfMessagesSent: number;
  /** Every message received from the service, of any type. */
  numberOfMessagesReceived: number;
  /** Successful GetIceServerConfig calls (each fresh ICE configuration). */
  iceRefreshCount: number;
  /** Every error the client met: failed calls and connects, failed sends, bad incoming messages, STATUS_RESPONSE errors. */
  numberOfErrors: number;
  /** The subset of errors met in the background: failed reconnects, bad incoming messages, failed ICE refreshes. */
  numberOfRuntimeErrors: number;
  /** Reconnects: each time an established connection was replaced (GO_AWAY, lifetime renewal, lost socket). */
  numberOfReconnects: number;
  /** Calls and connect attempts repeated after a failure. */
  apiCallRetryCount: number;
  /** Duration of the last successful step of each kind. */
  getTokenCallTime: number;
  describeCallTime: number;
  createCallTime: number;
  getEndpointCallTime: number;
  getIceConfigCallTime: number;
  connectCallTime: number;
  deleteCallTime: number;
  /** Time taken to construct the client. */
  createClientTime: number;
  /** Time of the last fetch: from GET_CREDENTIALS to READY. */
  fetchClientTime: number;
  /** Time of the last connect: from CONNECTING to CONNECTED. */
  connectClientTime: number;
  /** Master: from an offer received to the answer sent; viewer: from the offer sent to the answer received. */
  offerToAnswerTime: number;
}

export type CallKind =
  'getToken' | 'describe' | 'create' | 'getEndpoint' | 'getIceConfig' | 'connect' | 'delete';

const toHns = (ms: number): number => Math.round(ms * HUNDREDS_OF_NANOS_IN_A_MILLISECOND);

/** Exponential moving average, seeded by its first sample. */
export class Ema {
  private value: number | undefined;
  constructor(private readonly alpha = 0.2) {}
  add(sample: number): void {
    this.value =
      this.value === undefined ? sample : this.alpha * sample + (1 - this.alpha) * this.value;
  }
  get(): number {
    return this.value ?? 0;
  }
}

export class SignalingMetrics {
  private readonly created: number;
  private connectedAt: number | undefined;
  private readonly cp = new Ema();
  private readonly dp = new Ema();
  private readonly callTimes: Record<CallKind, number> = {
    getToken: 0,
    describe: 0,
    create: 0,
    getEndpoint: 0,
    getIceConfig: 0,
    connect: 0,
    delete: 0,
  };
  messagesSent = 0;
  messagesReceived = 0;
  iceRefreshCount = 0;
  errors = 0;
  runtimeErrors = 0;
  reconnects = 0;
  retries = 0;
  createClientMs = 0;
  fetchClientMs = 0;
  connectClientMs = 0;
  offerToAnswerMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.created = now();
  }

  /** Records one successful call's duration (ms). */
  call(kind: CallKind, ms: number): void {
    this.callTimes[kind] = ms;
    if (kind === 'describe' || kind === 'create' || kind === 'getEndpoint' || kind === 'delete')
      this.cp.add(ms);
    if (kind === 'getIceConfig') this.dp.add(ms);
  }

  error(runtime: boolean): void {
    this.errors++;
    if (runtime) this.runtimeErrors++;
  }

  connected(): void {
    this.connectedAt = this.now();
  }

  disconnected(): void {
    this.connectedAt = undefined;
  }

  snapshot(): SignalingClientStats {
    const now = this.now();
    const t = this.callTimes;
    return {
      cpApiCallLatency: toHns(this.cp.get()),
      dpApiCallLatency: toHns(this.dp.get()),
      signalingClientUptime: toHns(now - this.created),
      connectionDuration: this.connectedAt === undefined ? 0 : toHns(now - this.connectedAt),
      numberOfMessagesSent: this.messagesSent,
      numberOfMessagesReceived: this.messagesReceived,
      iceRefreshCount: this.iceRefreshCount,
      numberOfErrors: this.errors,
      numberOfRuntimeErrors: this.runtimeErrors,
      numberOfReconnects: this.reconnects,
      apiCallRetryCount: this.retries,
      getTokenCallTime: toHns(t.getToken),
      describeCallTime: toHns(t.describe),
      createCallTime: toHns(t.create),
      getEndpointCallTime: toHns(t.getEndpoint),
      getIceConfigCallTime: toHns(t.getIceConfig),
      connectCallTime: toHns(t.connect),
      deleteCallTime: toHns(t.delete),
      createClientTime: toHns(this.createClientMs),
      fetchClientTime: toHns(this.fetchClientMs),
      connectClientTime: toHns(this.connectClientMs),
      offerToAnswerTime: toHns(this.offerToAnswerMs),
    };
  }
}

/**
 * offerToAnswerTime: for a master, from an offer received to the answer sent to its sender;
 * for a viewer, from its offer sent to the answer received. Pure: times are passed in.
 */
export class OfferAnswerTimer {
  private readonly offersReceivedAt = new Map<string, number>();
  private offerSentAt: number | undefined;

  constructor(
    private readonly metrics: SignalingMetrics,
    /** Senders whose offer time is kept; the oldest is forgotten first. */
    private readonly maxSenders = 256,
  ) {}

  offerReceived(sender: string, now: number): void {
    this.offersReceivedAt.set(sender, now);
    if (this.offersReceivedAt.size > this.maxSenders) {
      for (const first of this.offersReceivedAt.keys()) {
        this.offersReceivedAt.delete(first);
        break;
      }
    }
  }

  answerReceived(now: number): void {
    if (this.offerSentAt === undefined) return;
    this.metrics.offerToAnswerMs = now - this.offerSentAt;
    this.offerSentAt = undefined;
  }

  offerSent(now: number): void {
    this.offerSentAt = now;
  }

  answerSent(recipient: string, now: number): void {
    const at = this.offersReceivedAt.get(recipient);
    if (at === undefined) return;
    this.metrics.offerToAnswerMs = now - at;
    this.offersReceivedAt.delete(recipient);
  }
}
