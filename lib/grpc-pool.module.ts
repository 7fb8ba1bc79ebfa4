import { Module, type DynamicModule } from '@nestjs/common';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './grpc-pool-module-definition.js';
import { checkForRootAsyncOptions, checkForRootOptions } from './check-module-options.js';

/**
 * A pool of live gRPC connections to one backend.
 *
 * @example
 * GrpcPoolModule.forRoot({ url: 'localhost:50051', size: 8 })
 * GrpcPoolModule.forRootAsync({
 *   name: 'billing',
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('BILLING_URL') }),
 * })
 */
@Module({})
export class GrpcPoolModule extends ConfigurableModuleClass {
  // Nest's builder reads the options object's keys before the pool sees it: a null, a
  // string or a missing factory would end in a TypeError or a DI error about a symbol.
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    checkForRootOptions(options, 'an object with at least { url }');
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    checkForRootAsyncOptions(options);
    return super.forRootAsync(options);
  }
}
