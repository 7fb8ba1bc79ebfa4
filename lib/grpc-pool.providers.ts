import type { Provider } from '@nestjs/common';
import { DEFAULT_POOL_NAME } from './grpc-pool.constants.js';
import type { ResolvedPoolOptions } from './interfaces/grpc-pool-options.interface.js';
import type { MemberChannel } from './member/member-channel.js';
import { resolvePoolOptions } from './options/resolve-pool-options.js';
import type { Member } from './member/member.js';
import { PoolService } from './pool/pool.service.js';
import { PoolStateService } from './state/pool-state.service.js';
import {
  getPoolOptionsToken,
  getPoolStateToken,
  getPoolToken,
} from './tokens/get-pool-token.util.js';

/** The providers of the pool called `name`, built from the raw options under `rawOptionsToken`. */
export function createPoolProviders(name: string, rawOptionsToken: string | symbol): Provider[] {
  const providers: Provider[] = [
    {
      provide: getPoolOptionsToken(name),
      useFactory: (raw: unknown) => resolvePoolOptions(name, raw),
      inject: [rawOptionsToken],
    },
    {
      provide: getPoolStateToken(name),
      useFactory: () => new PoolStateService<Member, MemberChannel>(),
    },
    {
      provide: getPoolToken(name),
      useFactory: (options: ResolvedPoolOptions, state: PoolStateService<Member, MemberChannel>) =>
        new PoolService(options, state),
      inject: [getPoolOptionsToken(name), getPoolStateToken(name)],
    },
  ];
  if (name === DEFAULT_POOL_NAME) {
    providers.push({ provide: PoolService, useExisting: getPoolToken(name) });
  }
  return providers;
}
