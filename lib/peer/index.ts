export { GrpcPeerPoolModule } from './grpc-peer-pool.module.js';
export { getPeerPoolToken } from './get-peer-pool-token.util.js';
export { InjectPeerPool } from './inject-peer-pool.decorator.js';
export { PeerPoolService } from './peer-pool.service.js';
export { PEER_POOL_DEFAULTS } from './peer-pool.constants.js';
export type { PeerPoolStats } from './peer.interface.js';
export type {
  GrpcPeerPoolOptions,
  PeerEndpointOptions,
  ResolvedPeerPoolOptions,
} from './peer-pool-options.interface.js';
