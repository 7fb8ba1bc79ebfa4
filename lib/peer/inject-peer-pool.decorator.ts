import { Inject } from '@nestjs/common';
import { getPeerPoolToken } from './get-peer-pool-token.util.js';

/**
 * Injects the `PeerPoolService` of the peer pool called `name` (default `'default'`).
 *
 * @example constructor(@InjectPeerPool('cluster') private readonly peers: PeerPoolService) {}
 */
export const InjectPeerPool = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getPeerPoolToken(name));
