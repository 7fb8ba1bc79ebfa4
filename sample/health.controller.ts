import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { GrpcPoolHealthIndicator } from 'nestjs-grpc-pool/health';

/** Readiness for load balancers and orchestrators. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly grpcPool: GrpcPoolHealthIndicator,
  ) {}

  /**
   * `GET /health`: 200 `ok` with every member ready, 200 `degraded` with some, 503 with
   * none (or while shutting down).
   */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.grpcPool.isHealthy('grpc-pool')]);
  }
}
