import { Test, type TestingModule } from '@nestjs/testing';
import {
  GrpcPoolModule,
  getPoolToken,
  PoolService,
  type GrpcPoolModuleExtras,
  type GrpcPoolOptions,
} from 'nestjs-grpc-pool';

/** A real Nest application context with one pool, initialized (members connecting). */
export interface PoolApp {
  readonly app: TestingModule;
  readonly pool: PoolService;
  close(): Promise<void>;
}

export async function startPoolApp(
  options: GrpcPoolOptions & GrpcPoolModuleExtras,
): Promise<PoolApp> {
  const app = await Test.createTestingModule({
    imports: [GrpcPoolModule.forRoot(options)],
  }).compile();
  await app.init();
  const pool = app.get<PoolService>(getPoolToken(options.name));
  return { app, pool, close: () => app.close() };
}
