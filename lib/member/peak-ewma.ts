/**
 * The peak-EWMA latency of one member (Finagle's and Linkerd's load estimate), in ms. 0
 * means "not measured yet": the `peak-ewma` strategy then lets the member take one call at
 * a time until its first answer sets a cost.
 *
 * - A latency above the cost replaces it at once (the *peak*: a backend that slows down is
 *   avoided from its first slow answer on).
 * - A latency below pulls the cost toward it with weight `1 - exp(-dt/tau)`, `dt` the time
 *   since this member's last answer, so the cost follows a backend that speeds up.
 * - A failed call counts as at least the current cost: a backend that fails fast must not
 *   look fast and draw more calls.
 * - The pool's decay timer ({@link LatencyDecay}) pulls every cost toward 0 at the same
 *   rate `1/tau`. Finagle and Linkerd decay toward 0 on every read of the cost; a coarse
 *   timer does the same work without a clock read in the pick. It is what lets a member
 *   that no longer gets calls (its backend was slow) be tried again, and what lets a cost
 *   that a fast backend's answers keep just above its latency fall to it when the backend
 *   speeds up.
 *
 * Every update is O(1) and allocates nothing; it runs once per call (at its first
 * response message or its status) or once per timer tick, never in the pick.
 */
export class PeakEwma {
  /** The cost: peak-EWMA latency in ms; 0 until the first measurement. */
  cost = 0;
  /** `performance.now()` of the last answer, for the weight of the next one. */
  private stamp = 0;

  constructor(
    /** Decay time constant in ms (Finagle's and Linkerd's 10 s unless tuned). */
    private readonly tauMs: number,
  ) {}

  /**
   * Records one call's latency: `latencyMs` from its start to its first response message
   * or final status, observed at `now` (ms, `performance.now()`).
   */
  observe(latencyMs: number, now: number, failed: boolean): void {
    // A failure's latency says nothing good about the backend: never below the cost. The
    // floor keeps a measured cost above 0 ("not measured") even for a 0 ms answer.
    const latency = Math.max(latencyMs, failed ? this.cost : 0, MIN_LATENCY_MS);
    const dt = now - this.stamp;
    this.stamp = now;
    if (latency >= this.cost) {
      this.cost = latency;
      return;
    }
    const keep = Math.exp(-Math.max(dt, 0) / this.tauMs);
    this.cost = this.cost * keep + latency * (1 - keep);
  }

  /** Pulls the cost toward 0 by `keep` = `exp(-elapsed/tau)`; see the class comment. */
  decay(keep: number): void {
    this.cost *= keep;
  }
}

/** The least latency a measurement records (1 µs): above 0, which means "not measured". */
const MIN_LATENCY_MS = 0.001;

/**
 * The timer that decays the costs of one pool's members: every `intervalMs` (coarse,
 * unref'd), each cost is multiplied by `exp(-elapsed/tau)`, `elapsed` read from the clock
 * once per tick (so a late tick decays by the time that really passed). Owned by the pool:
 * started on module init, stopped on close.
 */
export class LatencyDecay {
  private timer: NodeJS.Timeout | undefined = undefined;
  private last = 0;

  constructor(
    private readonly tauMs: number,
    private readonly intervalMs: number,
    /** The costs to decay: read on every tick, so members added later are included. */
    private readonly costs: () => Iterable<PeakEwma | undefined>,
  ) {}

  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(performance.now()), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Decays every cost by the time since the last tick. */
  tick(now: number): void {
    const keep = Math.exp(-Math.max(now - this.last, 0) / this.tauMs);
    this.last = now;
    for (const cost of this.costs()) {
      cost?.decay(keep);
    }
  }
}
