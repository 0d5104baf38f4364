/**
 * The seed's CloudWatch metrics, kept as Prometheus series:
 * - Failure (Operation, SignalingChannelName): a summary of 0/1 samples, one per call;
 * - Latency (Operation, SignalingChannelName): a summary in milliseconds;
 * - MessagesTransferred (ChannelName): messages sent and received on the channel;
 * - TURNConnected (ChannelName): TURN allocations made with the channel's credentials.
 * And one of the local service's own: kvs_local_held_messages, messages held for recipients
 * that are not connected (bounded by the limits, dropped once their channel's TTL passes).
 */

export type SignalingOperation =
  | 'ConnectAsMaster'
  | 'ConnectAsViewer'
  | 'SendSdpOffer'
  | 'SendSdpAnswer'
  | 'SendCandidate'
  | 'SendAlexaOfferToMaster'
  | 'GetIceServerConfig'
  | 'Disconnect';

interface Summary {
  sum: number;
  count: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  private readonly failure = new Map<string, Summary>();
  private readonly latency = new Map<string, Summary>();
  private readonly messages = new Map<string, number>();
  private readonly turn = new Map<string, number>();
  private held = 0;

  /** How many messages the signaling hub holds for offline recipients right now. */
  setHeldMessages(n: number): void {
    this.held = n;
  }

  /** Records one call: Failure gets 0 on a 200, 1 otherwise; Latency gets the duration. */
  recordCall(op: SignalingOperation, channelName: string, ok: boolean, latencyMs: number): void {
    const key = `${op}\u0000${channelName}`;
    const f = this.failure.get(key) ?? { sum: 0, count: 0 };
    f.sum += ok ? 0 : 1;
    f.count += 1;
    this.failure.set(key, f);
    const l = this.latency.get(key) ?? { sum: 0, count: 0 };
    l.sum += latencyMs;
    l.count += 1;
    this.latency.set(key, l);
  }

  messageTransferred(channelName: string, n = 1): void {
    this.messages.set(channelName, (this.messages.get(channelName) ?? 0) + n);
  }

  turnConnected(channelName: string): void {
    this.turn.set(channelName, (this.turn.get(channelName) ?? 0) + 1);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    const opLabels = (key: string): string => {
      const [op, ch] = key.split('\u0000') as [string, string];
      return `{Operation="${escapeLabel(op)}",SignalingChannelName="${escapeLabel(ch)}"}`;
    };
    out.push('# HELP kvs_signaling_failure Failure: 0 per call answered 200, 1 otherwise.');
    out.push('# TYPE kvs_signaling_failure summary');
    for (const [k, s] of this.failure) {
      out.push(`kvs_signaling_failure_sum${opLabels(k)} ${s.sum}`);
      out.push(`kvs_signaling_failure_count${opLabels(k)} ${s.count}`);
    }
    out.push(
      '# HELP kvs_signaling_latency_milliseconds Latency: request received to response sent.',
    );
    out.push('# TYPE kvs_signaling_latency_milliseconds summary');
    for (const [k, s] of this.latency) {
      out.push(`kvs_signaling_latency_milliseconds_sum${opLabels(k)} ${s.sum}`);
      out.push(`kvs_signaling_latency_milliseconds_count${opLabels(k)} ${s.count}`);
    }
    out.push(
      '# HELP kvs_signaling_messages_transferred_total MessagesTransferred: messages sent and received.',
    );
    out.push('# TYPE kvs_signaling_messages_transferred_total counter');
    for (const [ch, n] of this.messages) {
      out.push(`kvs_signaling_messages_transferred_total{ChannelName="${escapeLabel(ch)}"} ${n}`);
    }
    out.push(
      '# HELP kvs_turn_connected_total TURNConnected: TURN allocations made for the channel.',
    );
    out.push('# TYPE kvs_turn_connected_total counter');
    for (const [ch, n] of this.turn) {
      out.push(`kvs_turn_connected_total{ChannelName="${escapeLabel(ch)}"} ${n}`);
    }
    out.push('# HELP kvs_local_held_messages Messages held for recipients not connected.');
    out.push('# TYPE kvs_local_held_messages gauge');
    out.push(`kvs_local_held_messages ${this.held}`);
    return `${out.join('\n')}\n`;
  }
}
