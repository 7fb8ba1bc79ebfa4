/** Name of the pool registered when `forRoot` is given no `name`. */
export const DEFAULT_POOL_NAME = 'default';

/** Largest pool the module accepts: past this, connections cost more than they lift. */
export const MAX_POOL_SIZE = 1024;

/** Largest timer delay Node accepts (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Defaults applied by `resolvePoolOptions` when an option is left out. */
export const POOL_DEFAULTS = {
  size: 4,
  strategy: 'round-robin',
  readyTimeoutMs: 0,
  onReadyTimeout: 'fail',
  drainTimeoutMs: 10_000,
  connectTimeoutMs: 20_000,
  addressMode: 'spread',
  resolveIntervalMs: 30_000,
} as const;

/**
 * The `'peak-ewma'` strategy's tuning: Finagle's and Linkerd's time constant, a decay tick
 * coarse enough to cost nothing (8 members: a few µs four times a second), and the cost
 * function the skew benchmark chose: latency² × (in flight + 1). With latency × (in flight
 * + 1) a 10x slower backend still gets 1.6 % of calls, enough to own the p99 (202 ms, as
 * round-robin); squared it gets 0.1 % and p99 is 42.7 ms (bench/README.md, "Skew").
 */
export const PEAK_EWMA_DEFAULTS = {
  tauMs: 10_000,
  decayIntervalMs: 250,
  costExponent: 2,
} as const;

/**
 * A member whose address fails asks for a fresh resolution, but no sooner than this after
 * the last one: a flapping backend must not turn into a DNS storm.
 */
export const RESOLVE_ON_FAILURE_MIN_MS = 5_000;

/**
 * grpc-js puts a channel IDLE after 30 minutes without calls. A pool member should stay
 * connected, so members default to the longest idle timeout Node's timers allow; a member
 * that still goes IDLE is reconnected at once by its member connection.
 */
export const MEMBER_IDLE_TIMEOUT_MS = MAX_TIMER_MS;

/** Channel arg that makes every member's channel args distinct (one TCP connection each). */
export const MEMBER_ID_CHANNEL_ARG = 'nestjs_grpc_pool.member_id';
