import { MAX_POOL_SIZE } from '../grpc-pool.constants.js';
import { PoolArgumentError, PoolClosedError } from '../errors/pool.errors.js';
import { checkWholeNumber } from '../options/check-whole-number.js';
import { publish, type ScaleEvent } from '../telemetry/pool-events.js';
import type { Member } from '../member/member.js';
import type { Membership } from '../membership/membership.js';

/** How a manual scale operation treats the autoscaler's bounds. */
export interface ManualScaleOptions {
  /**
   * With `autoscale` on, a size outside `[min, max]` is refused (PoolArgumentError) unless
   * this is true: then the bound moves to the new size. Default false.
   */
  moveBounds?: boolean;
}

/**
 * The manual scaling API of one pool (`scaleUp`, `scaleDown`, `resize`) and the autoscaler's
 * add and removal, over the membership's one queue: each operation checks its argument
 * against the size it finds when its turn comes, and none runs once the pool is closed.
 * A removal's drain is awaited outside the queue, so the next change is not held up by it.
 */
export class PoolScaler {
  /** The autoscaler's bounds when autoscaling is on: manual operations keep within them. */
  bounds: { min: number; max: number } | undefined = undefined;

  constructor(
    private readonly pool: string,
    private readonly drainTimeoutMs: number,
    private readonly members: Membership,
  ) {}

  /** Starts the first `size` members. */
  start(size: number): Promise<number> {
    return this.run('start', size, () => this.grow(size));
  }

  scaleUp(n: number, options?: ManualScaleOptions): Promise<number> {
    return this.run('scaleUp', n, () => {
      this.check('scaleUp(n)', n, 1, MAX_POOL_SIZE - this.members.size);
      this.keepInBounds('scaleUp(n)', this.members.size + n, options);
      return this.grow(n);
    });
  }

  scaleDown(n: number, options?: ManualScaleOptions): Promise<number> {
    return this.run('scaleDown', n, () => {
      this.check('scaleDown(n)', n, 1, this.members.size - 1);
      this.keepInBounds('scaleDown(n)', this.members.size - n, options);
      return this.shrink(n);
    });
  }

  resize(size: number, options?: ManualScaleOptions): Promise<number> {
    return this.run('resize', size, () => {
      this.check('resize(size)', size, 1, MAX_POOL_SIZE);
      this.keepInBounds('resize(size)', size, options);
      const current = this.members.size;
      return size > current ? this.grow(size - current) : this.shrink(current - size);
    });
  }

  /**
   * The autoscaler's add: one member, unless the pool reached `bounds.max` by its turn.
   * Resolves with the new member (not yet connected), or `undefined`.
   */
  async autoscaleUp(): Promise<Member | undefined> {
    let made: Member | undefined;
    await this.run('autoscale', 1, () => {
      if (this.bounds !== undefined && this.members.size < this.bounds.max) {
        [made] = this.members.addNow(1);
      }
      return { size: this.members.size };
    });
    return made;
  }

  /**
   * The autoscaler's removal: the member with the fewest calls, unless the pool reached
   * `bounds.min` by its turn. Its drain runs on (shutdown waits for it).
   */
  async autoscaleDown(): Promise<boolean> {
    let removed = false;
    await this.run('autoscale', -1, () => {
      if (this.bounds !== undefined && this.members.size > this.bounds.min) {
        void this.members.retireNow(1, 'scale-down', this.cancelReason('scaled down'));
        removed = true;
      }
      return { size: this.members.size };
    });
    return removed;
  }

  /** Shutdown's reason for the calls it cancels. */
  closeReason(): string {
    return this.cancelReason('shut down');
  }

  /**
   * One operation in the queue: `change` returns the size it reached and, for a removal, the
   * drain to wait for (outside the queue) before the operation resolves.
   */
  private async run(
    operation: ScaleEvent['operation'],
    requested: number,
    change: () => { size: number; drain?: Promise<number> },
  ): Promise<number> {
    const pool = this.pool;
    publish('scaleRequested', () => ({
      pool,
      phase: 'requested',
      operation,
      requested,
      from: this.members.size,
    }));
    const started = Date.now();
    let from = 0;
    const { size, drain } = await this.members.exclusive(() => {
      from = this.members.size;
      return change();
    });
    await drain;
    if (this.members.closed) {
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
  }

  private grow(n: number): { size: number } {
    this.members.addNow(n);
    return { size: this.members.size };
  }

  private shrink(n: number): { size: number; drain: Promise<number> } {
    const drain = this.members.retireNow(n, 'scale-down', this.cancelReason('scaled down'));
    return { size: this.members.size, drain };
  }

  private cancelReason(what: string): string {
    return `gRPC pool "${this.pool}" ${what} and its drainTimeoutMs (${this.drainTimeoutMs} ms) passed`;
  }

  private keepInBounds(
    method: string,
    size: number,
    options: ManualScaleOptions | undefined,
  ): void {
    const bounds = this.bounds;
    if (bounds === undefined || (size >= bounds.min && size <= bounds.max)) {
      return;
    }
    if (options?.moveBounds === true) {
      bounds.min = Math.min(bounds.min, size);
      bounds.max = Math.max(bounds.max, size);
      return;
    }
    throw new PoolArgumentError(
      this.pool,
      method,
      `would make the pool ${size} member(s), outside its autoscale bounds ` +
        `[${bounds.min}, ${bounds.max}] (autoscale.min, autoscale.max); stay within them, or ` +
        'pass { moveBounds: true } to move the bound to the new size',
    );
  }

  private check(method: string, value: unknown, min: number, max: number): void {
    checkWholeNumber(this.pool, method, value, min, max, `pool size is ${this.members.size}`);
  }
}
