import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';
import { getPeerPoolToken } from '../peer/get-peer-pool-token.util.js';
import type { PeerPoolService } from '../peer/peer-pool.service.js';

/** Options of one peer pool check. */
export interface GrpcPeerPoolHealthCheckOptions {
  /** Which peer pool; default `'default'`. */
  pool?: string;
}

/**
 * Terminus view of a peer pool: `up` with its size, connected peers and hit rate, `down`
 * only while it is closing (or when no peer pool has that name). A peer that cannot be
 * reached fails its own `acquire()`; it does not make the whole pool unhealthy.
 *
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.peers.isHealthy('peers', { pool: 'cluster' })]); }
 */
@Injectable()
export class GrpcPeerPoolHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The health of one peer pool under `key`. */
  isHealthy<const Key extends string>(
    key: Key,
    options: GrpcPeerPoolHealthCheckOptions = {},
  ): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const name = options.pool ?? DEFAULT_POOL_NAME;
    const peers = this.findPeerPool(name);
    if (!peers) {
      return indicator.down({
        pool: name,
        message: `no gRPC peer pool named "${name}" is registered; check GrpcPeerPoolModule.forRoot({ name })`,
      });
    }
    const stats = peers.stats();
    const details = {
      pool: name,
      size: stats.size,
      connectedPeers: peers.connectedPeers().length,
      hitRate: stats.hitRate,
    };
    return peers.closed
      ? indicator.down({ ...details, message: 'peer pool is closing' })
      : indicator.up(details);
  }

  private findPeerPool(name: string): PeerPoolService | undefined {
    try {
      return this.moduleRef.get<PeerPoolService>(getPeerPoolToken(name), { strict: false });
    } catch {
      return undefined;
    }
  }
}
