import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GrpcPeerPoolHealthIndicator } from './grpc-peer-pool-health.indicator.js';
import { GrpcPoolHealthIndicator } from './grpc-pool-health.indicator.js';

/**
 * Terminus plus {@link GrpcPoolHealthIndicator} and {@link GrpcPeerPoolHealthIndicator};
 * import it where your health controller lives.
 */
@Module({
  imports: [TerminusModule],
  providers: [GrpcPoolHealthIndicator, GrpcPeerPoolHealthIndicator],
  exports: [GrpcPoolHealthIndicator, GrpcPeerPoolHealthIndicator, TerminusModule],
})
export class GrpcPoolHealthModule {}
