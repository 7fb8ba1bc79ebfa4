/** Stable codes carried by every error this module throws. */
export type PoolErrorCode =
  | 'POOL_CONFIG'
  | 'POOL_ARGUMENT'
  | 'POOL_NOT_READY'
  | 'POOL_CLOSED'
  | 'POOL_TIMEOUT'
  | 'POOL_CONNECT_FAILED'
  | 'POOL_EVICTED'
  | 'POOL_INVALIDATED';

/** Base class of the module's errors: a stable `code` and the name of the pool concerned. */
export abstract class PoolError extends Error {
  /** Stable machine-readable code, e.g. `'POOL_NOT_READY'`. */
  abstract readonly code: PoolErrorCode;

  protected constructor(
    /** The pool the error is about. */
    readonly pool: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem of a pool's options: the option's dotted path and what is wrong with it. */
export interface PoolConfigProblem {
  /** Dotted path of the offending option, e.g. `backoff.maxMs`. */
  readonly option: string;
  /** What is wrong and what is allowed, e.g. `is 0: expected a whole number from 1 to 1024`. */
  readonly detail: string;
}

/**
 * A pool option is missing, of the wrong type or out of range. Thrown once, when the module
 * initializes; the message names the pool, the option, the bad value and what is allowed.
 * When several options are wrong, one error lists them all (`problems`), one per line.
 */
export class PoolConfigError extends PoolError {
  readonly code = 'POOL_CONFIG';
  /** Dotted path of the (first) offending option, e.g. `backoff.maxMs`. */
  readonly option: string;
  /** Every problem found, in the order the options are checked; at least one. */
  readonly problems: readonly PoolConfigProblem[];

  constructor(pool: string, option: string, detail: string);
  constructor(pool: string, problems: readonly PoolConfigProblem[]);
  constructor(pool: string, option: string | readonly PoolConfigProblem[], detail?: string) {
    const problems = Object.freeze(
      typeof option === 'string' ? [{ option, detail: detail ?? '' }] : [...option],
    );
    const line = (problem: PoolConfigProblem) => `option "${problem.option}" ${problem.detail}`;
    super(
      pool,
      problems.length === 1
        ? `gRPC pool "${pool}": ${line(problems[0])}`
        : `gRPC pool "${pool}": ${problems.length} problems in its options:\n${problems.map((problem) => `  - ${line(problem)}`).join('\n')}`,
    );
    this.option = problems[0].option;
    this.problems = problems;
  }
}

/** A method of a pool was called with an argument it cannot use (e.g. `scaleDown(-1)`). */
export class PoolArgumentError extends PoolError {
  readonly code = 'POOL_ARGUMENT';

  constructor(pool: string, method: string, detail: string) {
    super(pool, `gRPC pool "${pool}": ${method} ${detail}`);
  }
}

/** No member of the pool is connected right now. Retry later or `await pool.awaitReady()`. */
export class PoolNotReadyError extends PoolError {
  readonly code = 'POOL_NOT_READY';

  constructor(pool: string, targets: readonly string[]) {
    super(
      pool,
      `gRPC pool "${pool}": no member is connected to ${targets.join(', ')} yet; ` +
        'await pool.awaitReady() before the first call, or use tryGetChannel()',
    );
  }
}

/** The pool was closed (application shutdown or `close()`); it hands out no more members. */
export class PoolClosedError extends PoolError {
  readonly code = 'POOL_CLOSED';

  constructor(pool: string) {
    super(pool, `gRPC pool "${pool}" is closed and hands out no more channels`);
  }
}

/** `awaitReady` (or bootstrap with `readyTimeoutMs`) ran out of time before any member connected. */
export class PoolTimeoutError extends PoolError {
  readonly code = 'POOL_TIMEOUT';

  constructor(
    pool: string,
    timeoutMs: number,
    /** What each target last reported, e.g. `127.0.0.1:50051 (TRANSIENT_FAILURE: connect ECONNREFUSED …)`. */
    readonly targets: readonly string[],
  ) {
    super(
      pool,
      `gRPC pool "${pool}": no member became ready within ${timeoutMs} ms; ` +
        `${targets.join('; ')}. Check that the server is up and reachable, or raise the timeout`,
    );
  }
}

/**
 * A peer pool's `acquire()` of an endpoint that refused the connection (or failed it at
 * once: TLS, DNS): rejected on the first failed attempt, without waiting for
 * `connectTimeoutMs`. Nothing is pooled; the next `acquire()` dials again.
 */
export class PoolConnectError extends PoolError {
  readonly code = 'POOL_CONNECT_FAILED';

  constructor(
    pool: string,
    /** The endpoint as given to `acquire()`. */
    readonly endpoint: string,
    /** What grpc-js said, e.g. `connect ECONNREFUSED 127.0.0.1:50051`. */
    readonly lastError: string,
  ) {
    super(
      pool,
      `gRPC peer pool "${pool}": could not connect to ${endpoint}: ${lastError}. ` +
        'Check that the server is up and reachable; the next acquire() dials again',
    );
  }
}

/**
 * A peer pool evicted an endpoint's connection before it became ready: more endpoints
 * were acquired at once than `maxConnections` allows, and this one was the least recently
 * used. Not a shutdown: `acquire()` it again, or raise `maxConnections`.
 */
export class PoolEvictedError extends PoolError {
  readonly code = 'POOL_EVICTED';

  constructor(
    pool: string,
    /** The endpoint whose connection was evicted. */
    readonly endpoint: string,
    /** The peer pool's `maxConnections`. */
    readonly maxConnections: number,
  ) {
    super(
      pool,
      `gRPC peer pool "${pool}": the connection to ${endpoint} was evicted before it became ready ` +
        `because maxConnections (${maxConnections}) was reached; acquire() it again, ` +
        'or raise maxConnections',
    );
  }
}

/**
 * `invalidate(endpoint)` closed the connection an `acquire()` of the same endpoint was
 * waiting for, and no newer connection to it was asked for meanwhile. Not a shutdown:
 * `acquire()` it again to dial afresh.
 */
export class PoolInvalidatedError extends PoolError {
  readonly code = 'POOL_INVALIDATED';

  constructor(
    pool: string,
    /** The endpoint that was invalidated. */
    readonly endpoint: string,
  ) {
    super(
      pool,
      `gRPC peer pool "${pool}": invalidate("${endpoint}") closed the connection before it ` +
        'became ready; acquire() it again to dial afresh',
    );
  }
}
