import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GrpcPoolHealthIndicator } from './grpc-pool-health.indicator.js';

/** Terminus plus {@link GrpcPoolHealthIndicator}; import it where your health controller lives. */
@Module({
  imports: [TerminusModule],
  providers: [GrpcPoolHealthIndicator],
  exports: [GrpcPoolHealthIndicator, TerminusModule],
})
export class GrpcPoolHealthModule {}
