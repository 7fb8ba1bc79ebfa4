/** A member's state in the pool's member state table (see `docs/internals.md`). */
export type MemberLifecycle =
  'pending' | 'connecting' | 'standby' | 'held' | 'serving' | 'draining' | 'closed';

/** Connectivity of a member, as grpc-js names it. */
export type MemberState = 'IDLE' | 'CONNECTING' | 'READY' | 'TRANSIENT_FAILURE' | 'SHUTDOWN';

/**
 * Why a connected member is out of rotation: the server's health service said
 * `NOT_SERVING` or `SERVICE_UNKNOWN`, its health probes kept failing (`probe-failures`), or
 * its calls kept failing (`ejected`, outlier ejection).
 */
export type MemberOutReason = 'NOT_SERVING' | 'SERVICE_UNKNOWN' | 'probe-failures' | 'ejected';

/** A member held out of the slot table while its connection stays up. */
export interface MemberOutInfo {
  readonly reason: MemberOutReason;
  /** ISO time it went out. */
  readonly since: string;
  /** ISO time it comes back on its own (ejections); absent when it waits for a health probe. */
  readonly until?: string;
}

/** One member of a pool, as `status()` and `members()` show it. Holds no credentials. */
export interface PoolMemberInfo {
  /** Stable id of the member within its pool. */
  readonly id: number;
  /** Its slot in the ready table, or `null` while it is not ready. */
  readonly slot: number | null;
  /**
   * `true` while the member is leaving (scale-down, shutdown): out of the slot table, its
   * calls in flight finishing. It is listed until its connection closes.
   */
  readonly draining?: true;
  /**
   * `true` while the member is a replacement in the making (a renewal's or a move's new
   * connection, make-before-break): listed, not yet counted in the pool's `size`, it takes the
   * old member's place once connected.
   */
  readonly replacement?: true;
  /** Connectivity of the member's channel. */
  readonly state: MemberState;
  /**
   * Its place in the member state table: `pending`, `connecting`, `standby`, `held`,
   * `serving` (in the slot table exactly then), `draining` or `closed`.
   */
  readonly lifecycle: MemberLifecycle;
  /**
   * The member this one renewed (make-before-break: it took that member's slot). A renewal
   * makes a new member with a new id, so its counters start from zero.
   */
  readonly renewedFrom?: number;
  /** grpc-js channels made for this member: 1, plus one per channel the pool had to replace. */
  readonly channels: number;
  /** Calls in flight on this member now. */
  readonly inFlight: number;
  /** Calls started on this member so far. */
  readonly callsStarted: number;
  /** Calls that ended with a status other than OK (errors, cancels, deadlines). */
  readonly callsFailed: number;
  /** Calls ended so far by gRPC status name, only those seen, e.g. `{ OK: 10, UNAVAILABLE: 1 }`. */
  readonly callsByStatus: Readonly<Record<string, number>>;
  /** Times the member lost its connection. */
  readonly disconnects: number;
  /** ISO time of the member's last connectivity change. */
  readonly lastStateChange: string;
  readonly target: string;
  /**
   * Peak-EWMA latency of the member's calls (ms, µs precision; 0 until measured), in pools
   * whose strategy is `'peak-ewma'`.
   */
  readonly latencyMs?: number;
  /**
   * Calls on this member the client ended early (cancelled, deadline): each one a stream
   * reset the server counts against its rapid-reset guard. With `resetBudget` on.
   */
  readonly resets?: number;
  /** What is left of the member's connection's reset allowance, as the pool mirrors it. */
  readonly resetBudgetLeft?: number;
  /**
   * The address the member dials when the pool spreads a host-name target over its
   * addresses (`addressMode: 'spread'`), e.g. `'10.0.0.7:50051'` or `'[::1]:50051'`.
   */
  readonly address?: string;
  /** ISO time `maxConnectionAgeMs` renews this member, while it is ready and the option is set. */
  readonly renewAt?: string;
  /** ISO time the member last connected (became ready), while it is ready. */
  readonly readySince?: string;
  /** The last connection error grpc-js reported, while the member is not ready. */
  readonly lastError?: string;
  /** Set while health checking or outlier ejection holds the member out of rotation. */
  readonly out?: MemberOutInfo;
}

/** The autoscaler's state, in `status()` when `autoscale` is on. */
export interface AutoscaleStatus {
  /** Current bounds (manual scaling may have moved them when asked to). */
  readonly min: number;
  readonly max: number;
  /** Calls in flight on a member at which growth is considered (`scaleUpAt x streamsPerMember`). */
  readonly mark: number;
  /** An add is connecting, or its cooldown runs. */
  readonly addInFlight: boolean;
  /** Shrink windows in a row so far whose peak fit in a member fewer. */
  readonly lowWindows: number;
  /** The last resize and why, or `null` before the first. */
  readonly lastDecision: {
    readonly action: 'scale-up' | 'scale-down';
    readonly reason: string;
    readonly from: number;
    readonly to: number;
    /** ISO time. */
    readonly at: string;
  } | null;
}

/** Connection renewal in `status()`, once `maxConnectionAgeMs` is set or a renewal ran. */
export interface RenewalStatus {
  /** 0 when members are not renewed by age. */
  readonly maxConnectionAgeMs: number;
  /** Renewals that swapped a member, and that left the old one serving. */
  readonly done: number;
  readonly failed: number;
  /** The renewal under way, if any. */
  readonly running?: { readonly memberId: number; readonly reason: string };
}

/** The calls of one target of a pool, over every member the pool had on it. */
export interface PoolTargetCalls {
  /** As given in `url`. */
  readonly target: string;
  readonly inFlight: number;
  readonly callsStarted: number;
  readonly callsFailed: number;
  readonly callsByStatus: Readonly<Record<string, number>>;
}

/** A snapshot of a pool. */
export interface PoolStatus {
  readonly name: string;
  /** Members the pool keeps (its expected size). */
  readonly size: number;
  /** Members ready to take calls now. */
  readonly ready: number;
  readonly strategy: string;
  /** Health threshold: fewer ready members than this is `degraded`. */
  readonly minReady: number;
  /** True once `close()` or application shutdown has begun. */
  readonly closed: boolean;
  /** Calls in flight over all members. */
  readonly inFlight: number;
  /**
   * Calls started since the pool started, over every member it had: those listed in
   * `members` and those that left (scale-down, renewal, move); kept after `close()` too.
   */
  readonly callsStarted: number;
  /** Calls ended with a status other than OK, over every member the pool had. */
  readonly callsFailed: number;
  /**
   * Calls ended by gRPC status name over every member the pool had, only those seen, e.g.
   * `{ OK: 10, UNAVAILABLE: 1 }`.
   */
  readonly callsByStatus: Readonly<Record<string, number>>;
  /**
   * Calls the client ended early (cancelled, deadline) over every member the pool had: the
   * stream resets servers count (see each member's `resets`). With `resetBudget` on.
   */
  readonly resets?: number;
  /** The same call counts per target, in `url` order; every target, with zeros where none ran. */
  readonly targets: readonly PoolTargetCalls[];
  /** Members handed out by `getChannel()`, `tryGetChannel()` and `pool.channel` since start. */
  readonly picks: number;
  readonly members: readonly PoolMemberInfo[];
  /** The autoscaler, when `autoscale` is on. */
  readonly autoscale?: AutoscaleStatus;
  /** Connection renewal, when `maxConnectionAgeMs` is set or a renewal ran. */
  readonly renewal?: RenewalStatus;
}
