import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { GrpcPoolModule } from 'nestjs-grpc-pool';
import { GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import { HealthController } from './health.controller.js';
import { HERO_PROTO_PATH } from './hero.grpc.js';
import { HeroesController } from './heroes.controller.js';
import { PoolController } from './pool.controller.js';

/** Options of {@link AppModule.register}. */
export interface AppModuleOptions {
  /** The hero backend, `host:port`. Default: the `HERO_GRPC_URL` environment variable. */
  grpcUrl?: string;
}

/** The sample app: heroes over HTTP from a gRPC backend through a pool of 4 connections. */
@Module({})
export class AppModule {
  /**
   * @example
   * NestFactory.create(AppModule.register({ grpcUrl: 'localhost:50051' }))
   */
  static register(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          // Loaded config wins over process.env in ConfigService.get, so an explicit URL
          // (main.ts passes the embedded server's) beats HERO_GRPC_URL.
          load: [() => (options.grpcUrl ? { HERO_GRPC_URL: options.grpcUrl } : {})],
        }),
        GrpcPoolModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            url: config.getOrThrow<string>('HERO_GRPC_URL'),
            size: 4,
            // As in ClientsModule.register: what getService() loads its stubs from.
            package: 'hero',
            protoPath: HERO_PROTO_PATH,
            loader: { keepCase: false, longs: Number, enums: String, defaults: true },
            // Bootstrap (app.listen) waits for a connected member, and fails after 5 s.
            readyTimeoutMs: 5_000,
          }),
        }),
        GrpcPoolHealthModule,
      ],
      controllers: [HeroesController, PoolController, HealthController],
    };
  }
}
