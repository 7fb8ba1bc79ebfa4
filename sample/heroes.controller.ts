import { Controller, Get, Param, ParseIntPipe, Query, type OnModuleInit } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { grpcToHttpException, InjectPool, PoolService } from 'nestjs-grpc-pool';
import { catchError, throwError, timeout, toArray, type Observable } from 'rxjs';
import type { Hero, HeroById, HeroFilter } from './hero.grpc.js';

/** How long one backend call may take before the HTTP answer is 504. */
const CALL_TIMEOUT_MS = 2_000;

/** `hero.HeroService` as Nest's `ClientGrpc` stubs type it (methods in lowerCamelCase). */
export interface HeroService {
  findOne(request: HeroById, metadata?: Metadata, options?: { deadline: number }): Observable<Hero>;
  findMany(
    request: HeroFilter,
    metadata?: Metadata,
    options?: { deadline: number },
  ): Observable<Hero>;
}

/**
 * Heroes over HTTP, fetched from the gRPC backend through the pool with Nest-style
 * Observable stubs: the same code as with `ClientsModule` + `ClientGrpc`, but every call
 * is balanced over the pool's connections.
 */
@Controller('heroes')
export class HeroesController implements OnModuleInit {
  private heroes!: HeroService;

  constructor(@InjectPool() private readonly pool: PoolService) {}

  onModuleInit(): void {
    this.heroes = this.pool.getService<HeroService>('HeroService');
  }

  /** `GET /heroes/:id`: one hero (unary call); 404 when the backend answers NOT_FOUND. */
  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number): Observable<Hero> {
    return this.heroes.findOne({ id }, new Metadata(), deadline()).pipe(toHttp());
  }

  /** `GET /heroes?name=`: the `FindMany` server stream, collected into one JSON array. */
  @Get()
  findMany(@Query('name') name = ''): Observable<Hero[]> {
    return this.heroes
      .findMany({ nameContains: name }, new Metadata(), deadline())
      .pipe(toArray(), toHttp());
  }
}

function deadline(): { deadline: number } {
  return { deadline: Date.now() + CALL_TIMEOUT_MS };
}

/** Maps a gRPC error to its HTTP answer, and bounds the whole call by the deadline. */
function toHttp<T>() {
  return (source: Observable<T>) =>
    source.pipe(
      timeout(CALL_TIMEOUT_MS + 500),
      catchError((error: unknown) => throwError(() => grpcToHttpException(error) ?? error)),
    );
}
