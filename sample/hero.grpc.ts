import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type GrpcObject,
  type requestCallback,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** `hero.Hero`. */
export interface Hero {
  id: number;
  name: string;
}

/** `hero.HeroById`. */
export interface HeroById {
  id: number;
}

/** `hero.HeroFilter` (proto-loader turns `name_contains` into camelCase). */
export interface HeroFilter {
  nameContains?: string;
}

/** A typed view of the grpc-js client that `loadPackageDefinition` makes for `hero.HeroService`. */
export interface HeroServiceClient extends Client {
  FindOne(
    request: HeroById,
    options: CallOptions,
    callback: requestCallback<Hero>,
  ): ClientUnaryCall;
  FindMany(request: HeroFilter, options?: CallOptions): ClientReadableStream<Hero>;
}

/**
 * `hero.proto`, found next to this module when it runs from `sample/` (ts-jest) and in
 * `../sample/` when it runs compiled from `dist-sample/`.
 */
export const HERO_PROTO_PATH = [
  new URL('./hero.proto', import.meta.url),
  new URL('../sample/hero.proto', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path)) as string;

const heroPackage = loadPackageDefinition(
  loadSync(HERO_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true }),
).hero as GrpcObject;
const HeroServiceCtor = heroPackage.HeroService as ServiceClientConstructor;

/** The client constructor of `hero.HeroService`, as generated code would export it. */
export const HeroClient = HeroServiceCtor as unknown as new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => HeroServiceClient;

/** The service definition of `hero.HeroService`, for `server.addService`. */
export const HERO_SERVICE: ServiceDefinition = HeroServiceCtor.service;
