/**
 * An echo server with a `grpc.health.v1` service (grpc-health-check), in a process of its
 * own, for the Health benchmark. argv[2] is JSON: { label: string, watch: boolean }. Unary
 * replies carry `label` as their message, so the client sees which backend served a call.
 * Without `watch`, Watch answers UNIMPLEMENTED and the pool must poll with Check. The parent
 * sets the status with { type: 'health', status } and waits for { type: 'health-set' }.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { EchoClient } from './echo-proto.js';

const { label, watch } = JSON.parse(process.argv[2] ?? '{}');
const health = new HealthImplementation({ '': 'SERVING' });
let status = 'SERVING';
const server = new grpc.Server();
server.addService(EchoClient.service, {
  Unary(call, callback) {
    setTimeout(callback, call.request.delayMs ?? 0, null, { message: label });
  },
});
if (watch) {
  health.addToServer(server);
} else {
  server.addService(healthService, {
    check: (_call, callback) => callback(null, { status }),
    watch: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'no Watch' }),
  });
}

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(`health echo server: cannot bind 127.0.0.1: ${error.message}`);
    process.exit(1);
  }
  process.send({ type: 'listening', port });
});

process.on('message', (message) => {
  if (message?.type === 'health') {
    status = message.status;
    health.setStatus('', message.status);
    process.send({ type: 'health-set' });
  }
});
process.on('disconnect', () => {
  server.forceShutdown();
  process.exit(0);
});
