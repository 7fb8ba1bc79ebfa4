import {
  Controller,
  Get,
  Module,
  Param,
  ParseIntPipe,
  type DynamicModule,
  type OnModuleInit,
} from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { GrpcPoolModule, InjectPool, PoolService } from 'nestjs-grpc-pool';
import { GrpcPoolHealthIndicator, GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import type { Observable } from 'rxjs';
import { heroServiceClient, type Hero } from './hero-backend.js';
import { HERO_PROTO } from './hero-proto.js';

interface HeroService {
  findOne(request: { id: number }): Observable<Hero>;
}

type Callback<T> = (error: Error | null, value?: T) => void;
interface HeroClient {
  findOne(request: { id: number }, callback: Callback<Hero>): unknown;
}

/** One route per way of calling through the pool: Nest stubs and a grpc-js client. */
@Controller('heroes')
export class HeroesController implements OnModuleInit {
  private service!: HeroService;
  private client!: HeroClient;

  constructor(@InjectPool() private readonly pool: PoolService) {}

  onModuleInit(): void {
    this.service = this.pool.getService<HeroService>('HeroService');
    this.client = this.pool.getClient(heroServiceClient()) as unknown as HeroClient;
  }

  @Get('service/:id')
  viaService(@Param('id', ParseIntPipe) id: number): Observable<Hero> {
    return this.service.findOne({ id });
  }

  @Get('client/:id')
  viaClient(@Param('id', ParseIntPipe) id: number): Promise<Hero | undefined> {
    return new Promise((resolve, reject) =>
      this.client.findOne({ id }, (error, hero) => (error ? reject(error) : resolve(hero))),
    );
  }
}

/** Terminus readiness of the default pool. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pools: GrpcPoolHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.pools.isHealthy('heroes', { minReady: 1 })]);
  }
}

/** The consumer app: a pool of 2 on the loopback backend, its routes and `/health`. */
@Module({})
export class AppModule {
  static forBackend(url: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GrpcPoolModule.forRoot({
          url,
          size: 2,
          package: 'hero',
          protoPath: HERO_PROTO,
          readyTimeoutMs: 20_000,
        }),
        GrpcPoolHealthModule,
      ],
      controllers: [HeroesController, HealthController],
    };
  }
}
