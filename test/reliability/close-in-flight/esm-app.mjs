// An ES-module Nest app whose only live resource is a pool: it starts a server-streaming
// call, and once the first reply is in (the call is at the server, 1 s from its end) it
// closes the app with a top-level await. Node exits with code 13 if that await never
// settles (nothing else keeps the event loop alive). Run by close-in-flight.e2e.spec.ts,
// against an echo server in the spec's own process; it imports the built package (dist/).
// Usage: node esm-app.mjs PORT. Prints one JSON line per event.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcPoolModule, getPoolToken } from 'nestjs-grpc-pool';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protoPath = fileURLToPath(new URL('../../fixtures/echo.proto', import.meta.url));
const echo = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)).echo;
const print = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));

class AppModule {}
Module({
  imports: [GrpcPoolModule.forRoot({ url: `127.0.0.1:${process.argv[2]}`, size: 2 })],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
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
await new Promise((resolve) => call.once('data', resolve));
print('closing', { inFlight: pool.status().members.reduce((n, m) => n + m.inFlight, 0) });
const closing = performance.now();
await app.close();
print('closed', { closeMs: Math.round(performance.now() - closing) });
