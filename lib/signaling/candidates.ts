/**
 * Holds ICE candidates that arrive before their sender's SDP (offer or answer), per sender,
 * and releases them right after it. Held candidates expire (20 s, as the C SDK's samples) and
 * memory is bounded. Pure: the clock is passed in.
 */

export interface CandidateHolderOptions {
  /** How long a held candidate waits for its SDP. */
  holdMs: number;
  /** Candidates held per sender. */
  maxPerSender: number;
  /** Senders tracked (held or already seen); the oldest is forgotten first. */
  maxSenders: number;
}

export const DEFAULT_CANDIDATE_HOLDER: Readonly<CandidateHolderOptions> = Object.freeze({
  holdMs: 20_000,
  maxPerSender: 100,
  maxSenders: 256,
});

interface SenderState<C> {
  sdpSeen: boolean;
  held: { candidate: C; expiresAt: number }[];
  touched: number;
}

export class CandidateHolder<C> {
  private readonly senders = new Map<string, SenderState<C>>();
  /** Candidates dropped because they expired or overflowed. */
  dropped = 0;

  constructor(private readonly opts: CandidateHolderOptions = DEFAULT_CANDIDATE_HOLDER) {}

  private state(sender: string, now: number): SenderState<C> {
    let s = this.senders.get(sender);
    if (s) {
      // Map order is insertion order: re-insert to keep the most recent last.
      this.senders.delete(sender);
    } else {
      s = { sdpSeen: false, held: [], touched: now };
    }
    s.touched = now;
    this.senders.set(sender, s);
    while (this.senders.size > this.opts.maxSenders) {
      const oldest = this.senders.keys().next().value as string;
      this.dropped += this.senders.get(oldest)?.held.length ?? 0;
      this.senders.delete(oldest);
    }
    return s;
  }

  /** A candidate arrived: true means deliver it now, false means it is held. */
  candidate(sender: string, candidate: C, now: number): boolean {
    this.sweep(now);
    const s = this.state(sender, now);
    if (s.sdpSeen) return true;
    s.held.push({ candidate, expiresAt: now + this.opts.holdMs });
    if (s.held.length > this.opts.maxPerSender) {
      s.held.shift();
      this.dropped++;
    }
    return false;
  }

  /** The sender's SDP arrived: returns its held candidates, oldest first. */
  sdp(sender: string, now: number): C[] {
    this.sweep(now);
    const s = this.state(sender, now);
    s.sdpSeen = true;
    return s.held.splice(0).map((h) => h.candidate);
  }

  /** Drops expired candidates; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const s of this.senders.values()) {
      const keep = s.held.filter((h) => h.expiresAt > now);
      n += s.held.length - keep.length;
      s.held = keep;
    }
    this.dropped += n;
    return n;
  }

  /** Candidates currently held for `sender`. */
  heldFor(sender: string): number {
    return this.senders.get(sender)?.held.length ?? 0;
  }

  clear(): void {
    this.senders.clear();
  }
}
