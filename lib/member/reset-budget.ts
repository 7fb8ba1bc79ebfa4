/**
 * The server's rapid-reset allowance for one connection, mirrored on the client.
 *
 * Servers guard against HTTP/2 rapid reset (CVE-2023-44487) with a token bucket per
 * connection; Node's (nghttp2) allows a burst of 1,000 RST_STREAM frames, refilled at 33 a
 * second, then ends the session with INTERNAL_ERROR and every call on it fails. Every call
 * a client ends early (cancel, deadline, an unsubscribe) is one RST_STREAM. This bucket
 * follows the same arithmetic from the calls that end CANCELLED or DEADLINE_EXCEEDED, so
 * the pool can move a member to a fresh connection (a full bucket) before the server's runs
 * dry. It counts a little more than the server does (a call that never reached the wire
 * sends no reset): it errs toward renewing early.
 *
 * Updated in O(1) where a call already ends; one clock read per reset, none per call.
 */
export class ResetBudget {
  /** Resets counted on this member since it was made. */
  resets = 0;
  private tokens: number;
  private refilledAt = performance.now();
  private lowReported = false;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    /** Tokens left at which `onLow` is called (once per connection). */
    private readonly margin: number,
    private readonly onLow: () => void,
  ) {
    this.tokens = burst;
  }

  /** One reset sent on the connection. */
  spend(): void {
    this.resets++;
    const now = performance.now();
    this.tokens =
      Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000) - 1;
    this.refilledAt = now;
    if (this.tokens < this.margin && !this.lowReported) {
      this.lowReported = true;
      this.onLow();
    }
  }

  /** Tokens left now (refilled to this moment). */
  remaining(): number {
    const now = performance.now();
    return Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
  }

  /** The member's calls now go over a fresh connection: a full bucket. */
  refill(): void {
    this.tokens = this.burst;
    this.refilledAt = performance.now();
    this.lowReported = false;
  }
}
