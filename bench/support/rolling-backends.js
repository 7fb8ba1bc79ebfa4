/**
 * Three grpc-js echo servers on one port, one per loopback address (127.0.0.2-4), in a
 * process of their own (forked by `rolling.js`), so the client's CPU is the client's alone.
 * The reply's `message` is the backend's address: the client counts calls per backend.
 * The parent sends { type: 'down', index, mode: 'graceful' | 'force', id } (tryShutdown or
 * forceShutdown), { type: 'up', index, id } (bind again on the same ip:port) and
 * { type: 'cpu', id }; each is answered with { type: 'done', id, ... }. argv[2]: JSON { hosts }.
 */
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from './echo-proto.js';

const { hosts } = JSON.parse(process.argv[2]);
const servers = hosts.map(() => undefined);
let port = 0;

function listen(index) {
  const host = hosts[index];
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary(call, callback) {
      setTimeout(callback, call.request.delayMs ?? 0, null, { message: host });
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) return reject(error);
      port = bound;
      servers[index] = server;
      resolve();
    }),
  );
}

function down(index, mode) {
  const server = servers[index];
  servers[index] = undefined;
  if (mode === 'force') {
    server.forceShutdown();
    return Promise.resolve();
  }
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

for (let index = 0; index < hosts.length; index++) await listen(index);
process.send({ type: 'listening', port });

process.on('message', (message) => {
  const done = (extra = {}) => process.send({ type: 'done', id: message.id, ...extra });
  if (message.type === 'down') {
    // Answered at once: the roll's clock starts at the shutdown, not when its grace ends.
    const closed = down(message.index, message.mode);
    done();
    void closed;
  } else if (message.type === 'up') {
    listen(message.index).then(
      () => done(),
      (error) => done({ error: error.message }),
    );
  } else if (message.type === 'cpu') {
    const usage = process.cpuUsage();
    done({ cpuUs: usage.user + usage.system });
  }
});
// The parent owns this process: when it goes, so do the servers.
process.on('disconnect', () => {
  servers.forEach((server) => server?.forceShutdown());
  process.exit(0);
});
