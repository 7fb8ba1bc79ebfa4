import { Mutex } from 'async-mutex';
import { MAX_POOL_SIZE } from '../grpc-pool.constants.js';
import { PoolClosedError } from '../errors/pool.errors.js';
import { checkWholeNumber } from '../options/check-whole-number.js';
import { publish, type ScaleEvent } from '../telemetry/pool-events.js';
import type { PoolMembers } from './pool-members.js';

/**
 * Grows and shrinks one pool, one operation at a time in the order asked: each operation
 * checks its argument against the size it finds when its turn comes, and none runs once
 * the pool is closed (shutdown does not wait for a running one: see `stop()`).
 */
export class PoolScaler {
  private readonly lock = new Mutex();

  constructor(
    private readonly pool: string,
    private readonly drainTimeoutMs: number,
    private readonly members: PoolMembers,
    private readonly isClosed: () => boolean,
  ) {}

  /** Starts the first `size` members. */
  start(size: number): Promise<number> {
    return this.run('start', size, () => this.grow(size));
  }

  scaleUp(n: number): Promise<number> {
    return this.run('scaleUp', n, () => {
      this.check('scaleUp(n)', n, 1, MAX_POOL_SIZE - this.members.size);
      return this.grow(n);
    });
  }

  scaleDown(n: number): Promise<number> {
    return this.run('scaleDown', n, () => {
      this.check('scaleDown(n)', n, 1, this.members.size - 1);
      return this.shrink(n);
    });
  }

  resize(size: number): Promise<number> {
    return this.run('resize', size, () => {
      this.check('resize(size)', size, 1, MAX_POOL_SIZE);
      const current = this.members.size;
      return size > current ? this.grow(size - current) : this.shrink(current - size);
    });
  }

  /**
   * Runs `change` (one step of a member move: an add, or taking the old member away) under
   * the scale lock, between scale operations. Rejects with PoolClosedError once the pool is
   * closed, so that nothing is added to a pool being shut down.
   */
  exclusive<T>(change: () => T): Promise<T> {
    return this.lock.runExclusive(() => {
      if (this.isClosed()) {
        throw new PoolClosedError(this.pool);
      }
      return change();
    });
  }

  /**
   * Drains and closes every member at once, without waiting for the running operation: a
   * scale-down under way keeps draining its own members (it started first, so it ends
   * first) and resolves with the size it reached; operations still queued reject with
   * PoolClosedError. So shutdown takes `drainTimeoutMs` at most, whatever was running.
   * Resolves with the calls cancelled.
   */
  stop(): Promise<number> {
    return this.members.removeAll(this.cancelReason('shut down'));
  }

  private run(
    operation: ScaleEvent['operation'],
    requested: number,
    change: () => Promise<number> | number,
  ): Promise<number> {
    const pool = this.pool;
    publish('scaleRequested', () => ({
      pool,
      phase: 'requested',
      operation,
      requested,
      from: this.members.size,
    }));
    return this.lock.runExclusive(async () => {
      if (this.isClosed()) {
        throw new PoolClosedError(pool);
      }
      const from = this.members.size;
      const started = Date.now();
      const size = await change();
      if (this.isClosed()) {
        // Shutdown came while this ran (a scale-down's drain): the pool it sized is gone.
        throw new PoolClosedError(pool);
      }
      publish('scaleDone', () => ({
        pool,
        phase: 'done',
        operation,
        requested,
        from,
        size,
        durationMs: Date.now() - started,
      }));
      return size;
    });
  }

  private grow(n: number): number {
    this.members.add(n);
    return this.members.size;
  }

  private async shrink(n: number): Promise<number> {
    await this.members.remove(n, this.cancelReason('scaled down'));
    return this.members.size;
  }

  private cancelReason(what: string): string {
    return `gRPC pool "${this.pool}" ${what} and its drainTimeoutMs (${this.drainTimeoutMs} ms) passed`;
  }

  private check(method: string, value: unknown, min: number, max: number): void {
    checkWholeNumber(this.pool, method, value, min, max, `pool size is ${this.members.size}`);
  }
}
