import { Inject } from '@nestjs/common';
import { getPoolToken } from './get-pool-token.util.js';

/**
 * Injects the `PoolService` of the pool called `name` (default `'default'`).
 *
 * @example constructor(@InjectPool('billing') private readonly billing: PoolService) {}
 */
export const InjectPool = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getPoolToken(name));
