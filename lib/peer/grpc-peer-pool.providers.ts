import type { Provider } from '@nestjs/common';
import { DEFAULT_POOL_NAME } from '../grpc-pool.constants.js';
import { getPeerPoolToken } from './get-peer-pool-token.util.js';
import { PeerPoolService } from './peer-pool.service.js';
import { resolvePeerPoolOptions } from './resolve-peer-pool-options.js';

/** The providers of the peer pool called `name`, built from the raw options under `rawOptionsToken`. */
export function createPeerPoolProviders(
  name: string,
  rawOptionsToken: string | symbol,
): Provider[] {
  const providers: Provider[] = [
    {
      provide: getPeerPoolToken(name),
      useFactory: (raw: unknown) => new PeerPoolService(resolvePeerPoolOptions(name, raw)),
      inject: [rawOptionsToken],
    },
  ];
  if (name === DEFAULT_POOL_NAME) {
    providers.push({ provide: PeerPoolService, useExisting: getPeerPoolToken(name) });
  }
  return providers;
}
