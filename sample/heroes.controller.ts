import { Controller, Get, Param, ParseIntPipe, Query } from '@nestjs/common';
import { credentials, type CallOptions } from '@grpc/grpc-js';
import { InjectPool, PoolService } from 'nestjs-grpc-pool';
import { HeroClient, type Hero, type HeroServiceClient } from './hero.grpc.js';
import { toHttpException } from './grpc-to-http.js';

/** How long one backend call may take before the HTTP answer is 504. */
const CALL_TIMEOUT_MS = 2_000;
/** Ignored next to `channelOverride`, but the client constructor wants one. */
const UNUSED_CREDENTIALS = credentials.createInsecure();

/** Heroes over HTTP, fetched from the gRPC backend through the pool. */
@Controller('heroes')
export class HeroesController {
  constructor(@InjectPool() private readonly pool: PoolService) {}

  /** `GET /heroes/:id`: one hero; 404 when the backend answers NOT_FOUND. */
  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number): Promise<Hero> {
    const client = this.client();
    return new Promise((resolve, reject) =>
      client.FindOne({ id }, callOptions(), (error, hero) =>
        error ? reject(toHttpException(error)) : resolve(hero as Hero),
      ),
    );
  }

  /** `GET /heroes?name=`: the `FindMany` server stream, collected into one JSON array. */
  @Get()
  async findMany(@Query('name') name = ''): Promise<Hero[]> {
    const heroes: Hero[] = [];
    try {
      for await (const hero of this.client().FindMany({ nameContains: name }, callOptions())) {
        heroes.push(hero as Hero);
      }
    } catch (error) {
      throw toHttpException(error);
    }
    return heroes;
  }

  /**
   * A client on one ready member, picked per request. A grpc-js client with
   * `channelOverride` is a thin shell over the channel it is given (no connection, no
   * resolver of its own), so making one per request is cheap and spreads requests over the
   * pool. Never `close()` it: that would close the pool's member.
   */
  private client(): HeroServiceClient {
    try {
      return new HeroClient('pool', UNUSED_CREDENTIALS, {
        channelOverride: this.pool.getChannel(),
      });
    } catch (error) {
      throw toHttpException(error);
    }
  }
}

function callOptions(): CallOptions {
  return { deadline: Date.now() + CALL_TIMEOUT_MS };
}
