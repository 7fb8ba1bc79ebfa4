import { Module, type DynamicModule } from '@nestjs/common';
import { DEFAULT_POOL_NAME } from './grpc-pool.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './grpc-pool-module-definition.js';
import { PoolConfigError } from './errors/pool.errors.js';
import { describeValue } from './options/option-checker.js';

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
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new PoolConfigError(
        DEFAULT_POOL_NAME,
        '(options)',
        `is ${describeValue(options)}: expected an object with at least { url }`,
      );
    }
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    const given = options as Partial<typeof ASYNC_OPTIONS_TYPE> | null;
    if (
      given === null ||
      typeof given !== 'object' ||
      (typeof given.useFactory !== 'function' &&
        given.useClass === undefined &&
        given.useExisting === undefined)
    ) {
      const name = typeof given?.name === 'string' ? given.name : DEFAULT_POOL_NAME;
      throw new PoolConfigError(
        name,
        '(async options)',
        `is ${describeValue(options)}: expected { useFactory }, { useClass } or { useExisting }`,
      );
    }
    return super.forRootAsync(options);
  }
}
