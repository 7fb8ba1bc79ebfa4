import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';
import type { PoolService } from '../pool/pool.service.js';
import { getPoolToken } from '../tokens/get-pool-token.util.js';
import type { PoolMemberInfo } from '../interfaces/pool-status.interface.js';

/**
 * With address spreading: members and ready members per address, e.g.
 * `{ addresses: { '10.0.0.7:50051': { members: 2, ready: 2 } } }`; nothing otherwise.
 */
function addressDetails(members: readonly PoolMemberInfo[]): {
  addresses?: Record<string, { members: number; ready: number }>;
} {
  const addresses: Record<string, { members: number; ready: number }> = {};
  for (const member of members) {
    if (member.address !== undefined && !member.draining) {
      const entry = (addresses[member.address] ??= { members: 0, ready: 0 });
      entry.members++;
      if (member.state === 'READY') entry.ready++;
    }
  }
  return Object.keys(addresses).length > 0 ? { addresses } : {};
}

/** Options of one readiness check. */
export interface GrpcPoolHealthCheckOptions {
  /** Which pool; default `'default'`. */
  pool?: string;
  /** Fewer ready members than this is `degraded`; default the pool's own `minReady` (its size unless set). */
  minReady?: number;
}

/**
 * Terminus readiness of a pool: `up` when at least `minReady` members are ready,
 * `degraded` (still HTTP 200) when some but fewer are, `down` when none is or the pool is
 * closing. Details carry counts and the strategy, and `out` (member, reason, since, until)
 * for members that health checking or outlier ejection holds out of rotation; never
 * credentials or targets' secrets.
 *
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.pools.isHealthy('grpc')]); }
 */
@Injectable()
export class GrpcPoolHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The health of one pool under `key`. */
  isHealthy<const Key extends string>(
    key: Key,
    options: GrpcPoolHealthCheckOptions = {},
  ): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const name = options.pool ?? DEFAULT_POOL_NAME;
    const pool = this.findPool(name);
    if (!pool) {
      return indicator.down({
        pool: name,
        message: `no gRPC pool named "${name}" is registered; check GrpcPoolModule.forRoot({ name })`,
      });
    }
    const status = pool.status();
    const minReady = options.minReady ?? status.minReady;
    // Members held out of rotation while connected (health checking, outlier ejection): why.
    const out = status.members.flatMap((member) =>
      member.out === undefined ? [] : [{ member: member.id, ...member.out }],
    );
    const details = {
      pool: status.name,
      ready: status.ready,
      size: status.size,
      minReady,
      strategy: status.strategy,
      ...addressDetails(status.members),
      ...(out.length > 0 && { out }),
    };
    if (status.closed) {
      return indicator.down({ ...details, message: 'pool is closing' });
    }
    if (status.ready === 0) {
      const message =
        out.length > 0
          ? `no member is in rotation: ${[...new Set(out.map((entry) => entry.reason))].join(', ')}`
          : 'no member is connected';
      return indicator.down({ ...details, message });
    }
    return status.ready < minReady ? indicator.degraded(details) : indicator.up(details);
  }

  private findPool(name: string): PoolService | undefined {
    try {
      return this.moduleRef.get<PoolService>(getPoolToken(name), { strict: false });
    } catch {
      return undefined;
    }
  }
}
