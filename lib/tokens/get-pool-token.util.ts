import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';

/**
 * Injection token of a pool's `PoolService`.
 *
 * @example moduleRef.get(getPoolToken('billing'), { strict: false })
 */
export function getPoolToken(name: string = DEFAULT_POOL_NAME): string {
  return `nestjs-grpc-pool:${name}:pool`;
}

/** Injection token of a pool's `PoolStateService` (its slot table). */
export function getPoolStateToken(name: string = DEFAULT_POOL_NAME): string {
  return `nestjs-grpc-pool:${name}:state`;
}

/** Injection token of a pool's validated, frozen options. */
export function getPoolOptionsToken(name: string = DEFAULT_POOL_NAME): string {
  return `nestjs-grpc-pool:${name}:options`;
}
