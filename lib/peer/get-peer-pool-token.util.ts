import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';

/**
 * Injection token of a peer pool's `PeerPoolService`. Peer pools have their own
 * namespace: a peer pool and a `GrpcPoolModule` pool may share a name.
 *
 * @example moduleRef.get(getPeerPoolToken('cluster'), { strict: false })
 */
export function getPeerPoolToken(name: string = DEFAULT_POOL_NAME): string {
  return `nestjs-grpc-pool:peers:${name}`;
}
