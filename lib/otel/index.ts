export { GrpcPoolMetricsModule, type GrpcPoolMetricsOptions } from './grpc-pool-metrics.module.js';
export { PoolMetrics } from './pool-metrics.js';
export { PeerPoolMetrics } from './peer-pool-metrics.js';
