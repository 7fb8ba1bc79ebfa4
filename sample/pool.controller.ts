import { Controller, Get } from '@nestjs/common';
import { InjectPool, PoolService, type PoolStatus } from 'nestjs-grpc-pool';

/** The pool's own view of itself, for people and dashboards. */
@Controller('pool')
export class PoolController {
  constructor(@InjectPool() private readonly pool: PoolService) {}

  /** `GET /pool`: size, ready members, strategy, and per member its state and calls. */
  @Get()
  status(): PoolStatus {
    return this.pool.status();
  }
}
