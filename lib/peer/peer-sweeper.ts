import { IDLE_SWEEP_TICKS } from './peer-pool.constants.js';
import type { PeerLru } from './peer-lru.js';

/**
 * The peer pool's idle clock: an unref'd interval that ticks `IDLE_SWEEP_TICKS` times
 * per `idleTimeoutMs`, advances the LRU's clock by one and hands the peers idle for longer
 * than `idleTimeoutMs` to `onIdle`. Uses are stamped with the tick count, so a hit never
 * reads the system clock; a late timer only makes a close later, never earlier.
 */
export class PeerSweeper<V> {
  private readonly timer: NodeJS.Timeout | undefined;
  /** Ticks a peer may go unused: at least `idleTimeoutMs` worth of them. */
  private readonly maxIdleTicks: number;

  /** `idleTimeoutMs` 0 sweeps nothing and starts no timer. */
  constructor(
    private readonly lru: PeerLru<V>,
    idleTimeoutMs: number,
    private readonly onIdle: (idle: V[]) => void,
  ) {
    const tickMs = Math.max(1, Math.floor(idleTimeoutMs / IDLE_SWEEP_TICKS));
    this.maxIdleTicks = Math.ceil(idleTimeoutMs / tickMs);
    this.timer = idleTimeoutMs > 0 ? setInterval(() => this.sweep(), tickMs).unref() : undefined;
  }

  /** One tick: advance the clock, close what has been idle long enough. */
  sweep(): void {
    this.lru.advance(this.lru.clock + 1);
    const idle = this.lru.sweep(this.maxIdleTicks);
    if (idle.length > 0) {
      this.onIdle(idle.map((entry) => entry.value));
    }
  }

  /** Stops the timer; the LRU keeps its clock. */
  stop(): void {
    clearInterval(this.timer);
  }
}
