// A CommonJS Nest app (the built package's dist/cjs) with shutdown hooks on, whose only live
// resource is a pool: it starts a server-streaming call and, once the first reply is in,
// prints `in-flight`; the spec then sends SIGTERM. Nest runs the pool's onApplicationShutdown
// (which drains the call), then the hook of a module further from the root (it prints
// `later-hook`), then kills the process with the same signal. Run by
// close-in-flight.e2e.spec.ts against an echo server in the spec's own process.
// Usage: node cjs-app.cjs PORT. Prints one JSON line per event.
'use strict';
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS app, on purpose */
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { GrpcPoolModule, getPoolToken } = require('nestjs-grpc-pool');

const protoPath = path.join(__dirname, '../../fixtures/echo.proto');
const echo = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)).echo;
const print = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));

class LaterHook {
  onApplicationShutdown(signal) {
    print('later-hook', { signal });
  }
}
Injectable()(LaterHook);
// Two imports away from the root, one more than the pool's module: Nest runs shutdown hooks
// module by module, nearest the root first, so this hook runs only once the pool's resolved.
class LaterModule {}
Module({ providers: [LaterHook] })(LaterModule);
class MiddleModule {}
Module({ imports: [LaterModule] })(MiddleModule);
class AppModule {}
Module({
  imports: [GrpcPoolModule.forRoot({ url: `127.0.0.1:${process.argv[2]}`, size: 2 }), MiddleModule],
})(AppModule);

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  app.enableShutdownHooks();
  const pool = app.get(getPoolToken());
  const client = new echo.Echo('unused', grpc.credentials.createInsecure(), {
    channelOverride: pool.channel,
  });
  const replies = [];
  const call = client.ServerStream({ message: 'in-flight', count: 2, delayMs: 1_000 });
  call.on('data', (reply) => replies.push(reply.index));
  call.on('error', (error) =>
    print('outcome', { code: error.code, details: error.details, replies }),
  );
  call.on('status', (status) => status.code === 0 && print('outcome', { code: 0, replies }));
  call.once('data', () =>
    print('in-flight', {
      entry: require.resolve('nestjs-grpc-pool'),
      inFlight: pool.status().members.reduce((n, m) => n + m.inFlight, 0),
    }),
  );
}
main().catch((error) => {
  print('failed', { error: String(error) });
  process.exitCode = 1;
});
