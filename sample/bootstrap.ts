import type { AddressInfo } from 'node:net';
import {
  Inject,
  Module,
  type DynamicModule,
  type LogLevel,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getPoolToken, type PoolService } from 'nestjs-grpc-pool';
import { AppModule } from './app.module.js';
import { startHeroServer, type HeroServer } from './hero-server.js';

/** Options of {@link startSample}. */
export interface SampleOptions {
  /** HTTP port; 0 picks a free one. Default 3000. */
  httpPort?: number;
  /** HTTP host. Default `127.0.0.1`: a sample should not listen on the network unasked. */
  httpHost?: string;
  /** Port of the embedded gRPC hero server; 0 (the default) picks a free one. */
  grpcPort?: number;
  /** Nest's logger: `false` silences it, a list keeps those levels. Default: Nest's. */
  logger?: false | LogLevel[];
}

/** A running sample: the embedded hero backend and the Nest app in front of it. */
export interface Sample {
  readonly app: NestExpressApplication;
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:3000`. */
  readonly httpUrl: string;
  /** The embedded hero server, `host:port`. */
  readonly grpcUrl: string;
  /** Closes the app (HTTP, then the pool drains), then the hero server. Idempotent. */
  close(): Promise<void>;
}

const HERO_SERVER = Symbol('HERO_SERVER');

/**
 * The sample's root: the app, plus the embedded backend's shutdown. Nest runs shutdown
 * hooks root module first, so this hook drains the pool itself (`close()` is idempotent:
 * the pool's own hook gets the same promise) and only then stops the backend. That order
 * holds for `app.close()` and for a signal under `enableShutdownHooks()` alike.
 */
@Module({})
class SampleModule implements OnApplicationShutdown {
  constructor(
    @Inject(HERO_SERVER) private readonly heroServer: HeroServer,
    private readonly moduleRef: ModuleRef,
  ) {}

  static register(heroServer: HeroServer): DynamicModule {
    return {
      module: SampleModule,
      imports: [AppModule.register({ grpcUrl: heroServer.url })],
      providers: [{ provide: HERO_SERVER, useValue: heroServer }],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.moduleRef.get<PoolService>(getPoolToken(), { strict: false }).close();
    await this.heroServer.close();
  }
}

/**
 * Starts the embedded hero server, then the Nest app on it, and resolves once the app
 * listens (its pool has a connected member by then). `main.ts` runs it; so does the e2e test.
 */
export async function startSample(options: SampleOptions = {}): Promise<Sample> {
  const heroServer = await startHeroServer({ port: options.grpcPort ?? 0 });
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(SampleModule.register(heroServer), {
      abortOnError: false,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const host = options.httpHost ?? '127.0.0.1';
    await app.listen(options.httpPort ?? 3000, host);
    const { port } = app.getHttpServer().address() as AddressInfo;
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      app: running,
      httpUrl: `http://${host}:${port}`,
      grpcUrl: heroServer.url,
      close: () => (closing ??= running.close()),
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await heroServer.close();
    throw error;
  }
}
