import type { PeerPoolStats } from './peer.interface.js';

/** The counters behind `PeerPoolService.stats()`: plain fields, bumped on the hot path. */
export class PeerCounters {
  hits = 0;
  misses = 0;
  evictions = 0;
  idleCloses = 0;
  unhealthyCloses = 0;

  /** The counters with the pool's current `size` and the hit rate. */
  snapshot(size: number): PeerPoolStats {
    const { hits, misses } = this;
    return {
      hits,
      misses,
      evictions: this.evictions,
      idleCloses: this.idleCloses,
      unhealthyCloses: this.unhealthyCloses,
      size,
      hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
    };
  }
}
