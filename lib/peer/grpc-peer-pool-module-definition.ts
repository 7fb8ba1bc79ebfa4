import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';
import { checkPoolName } from '../options/check-pool-name.js';
import type { GrpcPoolModuleExtras } from '../interfaces/grpc-pool-options.interface.js';
import { createPeerPoolProviders } from './grpc-peer-pool.providers.js';
import { getPeerPoolToken } from './get-peer-pool-token.util.js';
import type { GrpcPeerPoolOptions } from './peer-pool-options.interface.js';
import { PeerPoolService } from './peer-pool.service.js';

/** Token of the options as given, before validation; private to each peer pool's module. */
const RAW_PEER_POOL_OPTIONS = Symbol('nestjs-grpc-pool:raw-peer-options');

/**
 * `forRoot` / `forRootAsync` of {@link GrpcPeerPoolModule}, built as
 * `grpc-pool-module-definition.ts` builds the main pool's: each call is one named peer
 * pool with its own token, so several live side by side and two identical `forRootAsync`
 * calls with different names stay two modules.
 */
export const {
  ConfigurableModuleClass: ConfigurablePeerPoolModule,
  OPTIONS_TYPE: PEER_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PEER_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GrpcPeerPoolOptions>({
  moduleName: 'GrpcPeerPool',
  optionsInjectionToken: RAW_PEER_POOL_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<GrpcPoolModuleExtras>(
    { name: DEFAULT_POOL_NAME, isGlobal: false },
    (definition, extras) => {
      const name = checkPoolName(extras.name ?? DEFAULT_POOL_NAME, 'cluster');
      const token = getPeerPoolToken(name);
      return {
        ...definition,
        global: extras.isGlobal === true,
        providers: [
          ...(definition.providers ?? []),
          ...createPeerPoolProviders(name, RAW_PEER_POOL_OPTIONS),
        ],
        exports: name === DEFAULT_POOL_NAME ? [token, PeerPoolService] : [token],
      };
    },
  )
  .build();
