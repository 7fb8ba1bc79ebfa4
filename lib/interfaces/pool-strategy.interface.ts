/** What a strategy may read of a member: its calls in flight, and its latency where kept. */
export interface PoolMemberLoad {
  /** Calls started on this member that have not ended yet. */
  readonly inFlight: number;
  /**
   * Peak-EWMA latency of this member's calls (ms, from a call's start to its first
   * response message or status); 0 until measured. Kept only in pools whose strategy is
   * `'peak-ewma'` (0 in others), so a custom strategy cannot rely on it.
   */
  readonly latencyMs?: number;
}

/**
 * Chooses a ready member for a call. `pick` runs on the hot path of every call: it must be
 * synchronous, must not allocate, and must return a whole number in `[0, count)`.
 *
 * @example
 * const first: PoolStrategy = { name: 'first', pick: () => 0 };
 * GrpcPoolModule.forRoot({ url, strategy: first });
 */
export interface PoolStrategy {
  /** Shown in `status()` and health details. */
  readonly name: string;
  /**
   * @param members the ready members; only indexes `0..count-1` are valid
   * @param count how many members are ready (always at least 1)
   */
  pick(members: ArrayLike<PoolMemberLoad>, count: number): number;
}

/** Names of the built-in strategies. */
export type PoolStrategyName =
  'round-robin' | 'random' | 'power-of-two' | 'least-loaded' | 'peak-ewma';
