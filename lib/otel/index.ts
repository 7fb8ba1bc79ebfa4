export { GrpcPoolMetricsModule, type GrpcPoolMetricsOptions } from './grpc-pool-metrics.module.js';
export { PoolMetrics } from './pool-metrics.js';
