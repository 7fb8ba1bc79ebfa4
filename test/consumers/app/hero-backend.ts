import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HERO_PROTO } from './hero-proto.js';

/** A hero as the proto-loader stubs see it. */
export interface Hero {
  id: number;
  name: string;
}

/** The grpc-js client constructor of `hero.HeroService`, for `pool.getClient()`. */
export function heroServiceClient(): ServiceClientConstructor {
  const hero = loadPackageDefinition(loadSync(HERO_PROTO)).hero as GrpcObject;
  return hero.HeroService as ServiceClientConstructor;
}

/** A loopback grpc-js server answering `FindOne` with `hero <id>`; resolves once it listens. */
export async function startHeroBackend(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new Server();
  server.addService(heroServiceClient().service, {
    FindOne: (call: ServerUnaryCall<{ id: number }, Hero>, done: sendUnaryData<Hero>) =>
      done(null, { id: call.request.id, name: `hero ${call.request.id}` }),
    FindMany: () => undefined,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
