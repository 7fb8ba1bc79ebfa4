export { GrpcPoolHealthModule } from './grpc-pool-health.module.js';
export {
  GrpcPoolHealthIndicator,
  type GrpcPoolHealthCheckOptions,
} from './grpc-pool-health.indicator.js';
