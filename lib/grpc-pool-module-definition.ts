import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_POOL_NAME } from './grpc-pool.constants.js';
import { createPoolProviders } from './grpc-pool.providers.js';
import type {
  GrpcPoolModuleExtras,
  GrpcPoolOptions,
} from './interfaces/grpc-pool-options.interface.js';
import {
  getPoolOptionsToken,
  getPoolStateToken,
  getPoolToken,
} from './tokens/get-pool-token.util.js';
import { checkPoolName } from './options/check-pool-name.js';
import { PoolService } from './pool/pool.service.js';

/** Token of the options as given, before validation; private to each pool's module. */
const RAW_POOL_OPTIONS = Symbol('nestjs-grpc-pool:raw-options');

/**
 * `forRoot` / `forRootAsync` as `ConfigurableModuleBuilder` makes them. The extras turn
 * each call into one named pool: its own providers under its own tokens, so several pools
 * live side by side and two identical `forRootAsync` calls with different names stay two
 * modules.
 */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<GrpcPoolOptions>({
    moduleName: 'GrpcPool',
    optionsInjectionToken: RAW_POOL_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setExtras<GrpcPoolModuleExtras>(
      { name: DEFAULT_POOL_NAME, isGlobal: false },
      (definition, extras) => {
        const name = checkPoolName(extras.name ?? DEFAULT_POOL_NAME, 'billing');
        const exported = [getPoolToken(name), getPoolStateToken(name), getPoolOptionsToken(name)];
        return {
          ...definition,
          global: extras.isGlobal === true,
          providers: [
            ...(definition.providers ?? []),
            ...createPoolProviders(name, RAW_POOL_OPTIONS),
          ],
          exports: name === DEFAULT_POOL_NAME ? [...exported, PoolService] : exported,
        };
      },
    )
    .build();
