import { status } from '@grpc/grpc-js';
import {
  Controller,
  Get,
  HttpException,
  Module,
  Param,
  ParseIntPipe,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  GrpcPoolModule,
  GrpcToHttpExceptionFilter,
  grpcStatusToHttp,
  InjectPool,
  PoolService,
} from 'nestjs-grpc-pool';
import type { Observable } from 'rxjs';
import {
  ECHO_PROTO,
  EchoServer,
  type EchoReply,
  type EchoRequest,
} from '../support/echo-server.js';

interface EchoService {
  unary(request: EchoRequest): Observable<EchoReply>;
}

@Controller()
class EchoController {
  constructor(@InjectPool() private readonly pool: PoolService) {}

  /** Asks the backend to answer with gRPC status `code` (0: a normal reply). */
  @Get('status/:code')
  answer(@Param('code', ParseIntPipe) code: number): Observable<EchoReply> {
    return this.pool.getService<EchoService>('Echo').unary({ message: 'm', failCode: code });
  }

  @Get('plain-error')
  plain(): never {
    throw new Error('not a gRPC error');
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException('short and stout', 418);
  }
}

/**
 * `GrpcToHttpExceptionFilter` in a real Nest HTTP app (Express) calling a real gRPC server
 * through the pool, asked over HTTP with fetch on 127.0.0.1.
 */
describe('GrpcToHttpExceptionFilter', () => {
  let server: EchoServer;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    server = await EchoServer.start();
    @Module({
      imports: [
        GrpcPoolModule.forRoot({
          url: server.url,
          size: 2,
          package: 'echo',
          protoPath: ECHO_PROTO,
          readyTimeoutMs: 10_000,
        }),
      ],
      controllers: [EchoController],
      providers: [{ provide: APP_FILTER, useClass: GrpcToHttpExceptionFilter }],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it.each([
    ['NOT_FOUND', status.NOT_FOUND, 404],
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT, 400],
    ['ALREADY_EXISTS', status.ALREADY_EXISTS, 409],
    ['PERMISSION_DENIED', status.PERMISSION_DENIED, 403],
    ['UNAUTHENTICATED', status.UNAUTHENTICATED, 401],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED, 429],
    ['UNIMPLEMENTED', status.UNIMPLEMENTED, 501],
    ['UNAVAILABLE', status.UNAVAILABLE, 503],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED, 504],
    ['INTERNAL', status.INTERNAL, 502],
  ])(
    'answers a backend %s (code %i) with HTTP %i and the status details',
    async (_name, code, http) => {
      const { status: answered, body } = await get(`/status/${code}`);
      expect(answered).toBe(http);
      expect(body).toMatchObject({ statusCode: http, message: 'failed on request: m' });
    },
  );

  it('maps every gRPC status code, none to 2xx', () => {
    for (let code = 1; code <= 16; code++) {
      expect(grpcStatusToHttp(code)).toBeGreaterThanOrEqual(400);
    }
    expect(grpcStatusToHttp(99)).toBe(502);
  });

  it('lets a normal reply, an HttpException and a plain error through as Nest answers them', async () => {
    expect(await get('/status/0')).toMatchObject({ status: 200, body: { message: 'm' } });
    expect(await get('/teapot')).toMatchObject({
      status: 418,
      body: { message: 'short and stout' },
    });
    expect(await get('/plain-error')).toMatchObject({
      status: 500,
      body: { statusCode: 500, message: 'Internal server error' },
    });
  });

  it('answers 503 naming the pool when the pool is closed', async () => {
    await app.get(PoolService).close();
    const { status: answered, body } = await get('/status/0');
    expect(answered).toBe(503);
    expect(String(body.message)).toMatch(/"default"/);
  });
});
