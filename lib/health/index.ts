export { GrpcPoolHealthModule } from './grpc-pool-health.module.js';
export {
  GrpcPoolHealthIndicator,
  type GrpcPoolHealthCheckOptions,
} from './grpc-pool-health.indicator.js';
export {
  GrpcPeerPoolHealthIndicator,
  type GrpcPeerPoolHealthCheckOptions,
} from './grpc-peer-pool-health.indicator.js';
