import { Module, type DynamicModule } from '@nestjs/common';
import { checkForRootAsyncOptions, checkForRootOptions } from '../check-module-options.js';
import {
  ConfigurablePeerPoolModule,
  PEER_POOL_ASYNC_OPTIONS_TYPE,
  PEER_POOL_OPTIONS_TYPE,
} from './grpc-peer-pool-module-definition.js';

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
export class GrpcPeerPoolModule extends ConfigurablePeerPoolModule {
  // As GrpcPoolModule: Nest's builder reads the options' keys first, so a null or a missing
  // factory would end in a bare TypeError instead of a PoolConfigError.
  static override forRoot(options: typeof PEER_POOL_OPTIONS_TYPE): DynamicModule {
    checkForRootOptions(options, 'an object such as { maxConnections: 100 } ({} for the defaults)');
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof PEER_POOL_ASYNC_OPTIONS_TYPE): DynamicModule {
    checkForRootAsyncOptions(options);
    return super.forRootAsync(options);
  }
}
