/**
 * One grpc-js echo server on 127.0.0.1, run in a process of its own (forked by
 * `servers.js`) so that the client under test never shares its event loop with it.
 *
 * argv[2] is JSON: { maxConcurrentStreams?: number, slowdown?: number, channelArgs?: object }
 * (`channelArgs`: more grpc-js server options, e.g. `grpc.max_connection_age_ms`; nothing
 * else is set, so Node's HTTP/2 defaults, its rapid-reset guard included, apply). The handler waits
 * `request.delay_ms * slowdown` ms (a timer, no CPU) and echoes the message. The parent
 * asks for the process's CPU time with { type: 'cpu' } and may change the slowdown with
 * { type: 'slowdown', value }; the server exits when the parent
 * goes away.
 */
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from './echo-proto.js';

const {
  maxConcurrentStreams,
  slowdown: initialSlowdown = 1,
  channelArgs = {},
} = JSON.parse(process.argv[2] ?? '{}');
/** Changed mid-run by { type: 'slowdown', value } (the skew scenario's recovery). */
let slowdown = initialSlowdown;
const server = new grpc.Server({
  ...(maxConcurrentStreams && { 'grpc.max_concurrent_streams': maxConcurrentStreams }),
  ...channelArgs,
});

server.addService(EchoClient.service, {
  Unary(call, callback) {
    const delay = (call.request.delayMs ?? 0) * slowdown;
    const reply = { message: call.request.message };
    if (delay > 0) {
      setTimeout(callback, delay, null, reply);
    } else {
      callback(null, reply);
    }
  },
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`echo server: cannot bind 127.0.0.1: ${error.message}`);
    process.exit(1);
  }
  process.send({ type: 'listening', port });
});

process.on('message', (message) => {
  if (message?.type === 'slowdown') {
    slowdown = message.value;
  }
  if (message?.type === 'cpu') {
    process.send({ type: 'cpu', id: message.id, usage: process.cpuUsage() });
  }
});
// The parent owns this process: when it exits or disconnects, so does the server.
process.on('disconnect', () => {
  server.forceShutdown();
  process.exit(0);
});
