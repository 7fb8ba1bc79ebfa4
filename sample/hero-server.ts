import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { HERO_SERVICE, type Hero, type HeroById, type HeroFilter } from './hero.grpc.js';

/** The heroes the embedded backend knows. */
export const HEROES: readonly Hero[] = Object.freeze([
  { id: 1, name: 'John' },
  { id: 2, name: 'Doe' },
  { id: 3, name: 'Ada' },
  { id: 4, name: 'Grace' },
]);

/** Where {@link startHeroServer} binds. */
export interface HeroServerOptions {
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  /** Default `127.0.0.1`: the backend is for this process, not the network. */
  host?: string;
}

/** A running hero backend. */
export interface HeroServer {
  /** `host:port`, ready for `GrpcPoolModule`'s `url`. */
  readonly url: string;
  /** Lets calls in flight finish (up to 5 s), then stops. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a grpc-js server implementing `hero.HeroService`, so the sample runs with no
 * backend to set up. Resolves once it listens.
 */
export async function startHeroServer(options: HeroServerOptions = {}): Promise<HeroServer> {
  const host = options.host ?? '127.0.0.1';
  const server = new Server();
  server.addService(HERO_SERVICE, {
    FindOne: (call: ServerUnaryCall<HeroById, Hero>, callback: sendUnaryData<Hero>) => {
      const hero = HEROES.find(({ id }) => id === call.request.id);
      if (hero) {
        callback(null, hero);
      } else {
        callback({ code: status.NOT_FOUND, details: `no hero with id ${call.request.id}` });
      }
    },
    FindMany: (call: ServerWritableStream<HeroFilter, Hero>) => {
      const part = (call.request.nameContains ?? '').toLowerCase();
      for (const hero of HEROES) {
        if (call.cancelled) {
          return;
        }
        if (hero.name.toLowerCase().includes(part)) {
          call.write(hero);
        }
      }
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  let closing: Promise<void> | undefined;
  return {
    url: `${host}:${port}`,
    close: () => (closing ??= shutDown(server, 5_000)),
  };
}

/** `tryShutdown` waits for calls in flight; `forceShutdown` cuts them if that takes too long. */
function shutDown(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
