import { Module } from '@nestjs/common';
import { ConfigurablePeerPoolModule } from './grpc-peer-pool-module-definition.js';

/**
 * A pool of warm connections to many endpoints, one per endpoint (or `perEndpointSize`),
 * made on first use and closed by LRU, idle time, failure or shutdown.
 *
 * @example
 * GrpcPeerPoolModule.forRoot({ maxConnections: 50, idleTimeoutMs: 120_000 })
 * GrpcPeerPoolModule.forRootAsync({
 *   name: 'cluster',
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ maxConnections: config.get('PEERS_MAX', 100) }),
 * })
 */
@Module({})
export class GrpcPeerPoolModule extends ConfigurablePeerPoolModule {}
