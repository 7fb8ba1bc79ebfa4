import {
  credentials as grpcCredentials,
  type ChannelInterface,
  type ClientOptions,
  type Interceptor,
} from '@grpc/grpc-js';
import type { ClientGrpcProxy } from '@nestjs/microservices';
import { PoolArgumentError, PoolConfigError } from '../errors/pool.errors.js';
import type { PoolProtoOptions } from '../interfaces/grpc-pool-options.interface.js';
import { describeValue } from '../options/option-checker.js';

/** A grpc-js client constructor, generated or made by `loadPackageDefinition`. */
export type GrpcClientConstructor<T> = new (
  address: string,
  credentials: ReturnType<typeof grpcCredentials.createInsecure>,
  options?: ClientOptions,
) => T;

/**
 * The clients of one pool, all built on `pool.channel`: Nest's own `ClientGrpcProxy`
 * (for `getService()` Observable stubs, loaded only when proto options are given) and any
 * grpc-js client constructor (for `getClient()`), each made once. The pool's interceptors
 * go to every one of them, ahead of a client's own.
 */
export class PoolClients {
  private proxy: ClientGrpcProxy | undefined;
  /** The proto packages Nest loaded for `getService()`, to list their services in errors. */
  private packages: ReadonlyArray<Record<string, unknown>> = [];
  private readonly clients = new Map<GrpcClientConstructor<unknown>, unknown>();

  constructor(
    private readonly pool: string,
    private readonly channel: ChannelInterface,
    private readonly proto: PoolProtoOptions | undefined,
    private readonly interceptors: readonly Interceptor[] = [],
  ) {}

  /** Loads `@nestjs/microservices` and the proto when the pool has proto options. */
  async load(): Promise<void> {
    if (!this.proto) {
      return;
    }
    let microservices: typeof import('@nestjs/microservices');
    try {
      microservices = await import('@nestjs/microservices');
    } catch {
      throw new PoolConfigError(
        this.pool,
        'package',
        'needs @nestjs/microservices for getService(): npm install @nestjs/microservices @grpc/proto-loader',
      );
    }
    const loaded: Array<Record<string, unknown>> = [];
    class PoolGrpcProxy extends microservices.ClientGrpcProxy {
      override createClientByServiceName(name: string): unknown {
        return cancelOnUpstreamError(super.createClientByServiceName(name));
      }

      // Nest's public hook that loads the packages (its constructor calls it): keep what it
      // loaded, to list the services, instead of reading Nest's protected `grpcClients`.
      override createClients(): Array<Record<string, unknown>> {
        const packages = super.createClients() as Array<Record<string, unknown>>;
        loaded.push(...packages);
        return packages;
      }
    }
    this.packages = loaded;
    try {
      this.proxy = new PoolGrpcProxy({
        ...this.proto,
        // Nest passes channelOptions to the grpc-js client constructor: every stub's calls go through the pool.
        channelOptions: {
          channelOverride: this.channel,
          ...(this.interceptors.length > 0 && { interceptors: [...this.interceptors] }),
        },
      });
    } catch (error) {
      throw new PoolConfigError(
        this.pool,
        'protoPath',
        `could not be loaded as package ${JSON.stringify(this.proto.package)}: ${(error as Error).message}`,
      );
    }
  }

  /** Nest `ClientGrpc` Observable stubs of `service`, as `ClientGrpcProxy.getService` makes them. */
  getService<T extends object>(service: string): T {
    return this.requireProxy('getService', service).getService<T>(service);
  }

  /** The raw grpc-js client of `service`, as `ClientGrpcProxy.getClientByServiceName` gives it. */
  getClientByServiceName<T = unknown>(service: string): T {
    return this.requireProxy('getClientByServiceName', service).getClientByServiceName<T>(service);
  }

  /** A client of `ctor` on `pool.channel`, made once per constructor. */
  getClient<T>(ctor: GrpcClientConstructor<T>): T {
    this.checkConstructor('getClient(ctor)', ctor);
    let client = this.clients.get(ctor) as T | undefined;
    if (client === undefined) {
      client = this.createClient(ctor);
      this.clients.set(ctor, client);
    }
    return client;
  }

  /** A new client of `ctor` on `pool.channel`, e.g. with its own interceptors. */
  createClient<T>(ctor: GrpcClientConstructor<T>, options: ClientOptions = {}): T {
    this.checkConstructor('createClient(ctor)', ctor);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new PoolArgumentError(
        this.pool,
        'createClient(ctor, options)',
        `got ${describeValue(options)}: expected grpc-js ClientOptions (an object), e.g. { interceptors: [...] }`,
      );
    }
    // grpc-js ignores the address and credentials when channelOverride is given.
    const own = options.interceptors ?? [];
    return new ctor(`pool:${this.pool}`, grpcCredentials.createInsecure(), {
      ...options,
      ...((this.interceptors.length > 0 || own.length > 0) && {
        // The pool's first: in grpc-js the first interceptor sees the call first.
        interceptors: [...this.interceptors, ...own],
      }),
      channelOverride: this.channel,
    });
  }

  private checkConstructor(method: string, ctor: unknown): void {
    if (!isConstructor(ctor)) {
      throw new PoolArgumentError(
        this.pool,
        method,
        `got ${describeValue(ctor)}${typeof ctor === 'function' ? ' that is not a constructor' : ''}: expected a grpc-js client constructor, e.g. from loadPackageDefinition() or ts-proto`,
      );
    }
  }

  private requireProxy(method: string, service: string): ClientGrpcProxy {
    if (!this.proxy) {
      throw new PoolArgumentError(
        this.pool,
        `${method}(${describeValue(service)})`,
        'needs the proto options: give the pool { package, protoPath } as in ClientsModule.register',
      );
    }
    const services = this.serviceNames();
    if (typeof service !== 'string' || !services.includes(service)) {
      throw new PoolArgumentError(
        this.pool,
        `${method}(${describeValue(service)})`,
        `found no such service in package ${JSON.stringify(this.proto?.package)}; services loaded: ${services.join(', ') || 'none'}`,
      );
    }
    return this.proxy;
  }

  /** Names of the services in the loaded packages. */
  private serviceNames(): string[] {
    return this.packages.flatMap((pkg) =>
      Object.keys(pkg).filter(
        (key) => typeof pkg[key] === 'function' && 'service' in (pkg[key] as object),
      ),
    );
  }
}

/** Whether `value` can be called with `new` (checked without calling it). */
function isConstructor(value: unknown): boolean {
  if (typeof value !== 'function') {
    return false;
  }
  try {
    Reflect.construct(String, [], value);
    return true;
  } catch {
    return false;
  }
}

/** A grpc-js call object as its stream face shows it. */
interface StreamingCall {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  cancel(): void;
}

/**
 * Nest's client-streaming stubs pass an error of the request Observable on with
 * `call.emit('error', error)`, which does not end the gRPC call: it would stay open (and
 * counted) forever, and the stub would never answer. On such an error (one that is not a gRPC
 * status) the call is cancelled, so it ends with CANCELLED and leaves the count. The
 * client's methods are replaced on the instance Nest caches; Nest's own wrappers run as
 * they are.
 */
function cancelOnUpstreamError(client: unknown): unknown {
  const instance = client as Record<string, unknown>;
  const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
  for (const name of Object.keys(prototype)) {
    const method = prototype[name] as ((...args: unknown[]) => StreamingCall) & {
      requestStream?: boolean;
    };
    if (typeof method !== 'function' || method.requestStream !== true) {
      continue;
    }
    instance[name] = Object.assign(function (this: unknown, ...args: unknown[]): StreamingCall {
      const call = method.apply(this, args);
      call.on('error', (error) => {
        if (typeof (error as { code?: unknown } | null)?.code !== 'number') {
          call.cancel();
        }
      });
      return call;
    }, method);
  }
  return client;
}
