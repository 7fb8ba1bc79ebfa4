/**
 * `PeerPoolService.acquire()` on a hit, beside a bare `Map.get`, in one mitata run.
 *
 *   npm run build && node --expose-gc bench/peer-acquire.bench.js
 *
 * Plain ESM importing the built package (`dist/`) by its own name, as an application does.
 * A real peer pool (`GrpcPeerPoolModule.forRoot` in a Nest application context) holds 8
 * peers, each a real connection to its own grpc-js server on 127.0.0.1, all READY before
 * anything is timed. The `Map` baseline holds the same 8 channels under the same keys.
 *
 * - "same key": one endpoint over and over (the LRU's newest: no re-insert).
 * - "8 keys": round-robin over the 8 endpoints, so every hit moves its key to the newest
 *   end of the LRU (a Map delete + set), the worst case for a hit.
 * - "await": the whole `await acquire()`, beside `await` of the same value from a Map.
 */
import grpc from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import { GrpcPeerPoolModule, getPeerPoolToken } from 'nestjs-grpc-pool';

const PEERS = 8;

async function startServer() {
  const server = new grpc.Server();
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, endpoint: `127.0.0.1:${port}` };
}

const servers = await Promise.all(Array.from({ length: PEERS }, startServer));
const endpoints = servers.map((entry) => entry.endpoint);
const app = await NestFactory.createApplicationContext(GrpcPeerPoolModule.forRoot({}), {
  logger: false,
});
const peers = app.get(getPeerPoolToken());
const map = new Map();
for (const endpoint of endpoints) {
  map.set(endpoint, await peers.acquire(endpoint)); // connects: all misses happen here
}
const same = endpoints[0];
let i = 0;
const next = () => endpoints[(i = (i + 1) & (PEERS - 1))];

group('one key, over and over', () => {
  summary(() => {
    bench('Map.get(key)', () => do_not_optimize(map.get(same)));
    bench('peers.tryAcquire(key)', () => do_not_optimize(peers.tryAcquire(same)));
    bench('peers.acquire(key)', () => do_not_optimize(peers.acquire(same)));
  });
});

group('8 keys, round-robin (every hit re-orders the LRU)', () => {
  summary(() => {
    bench('Map.get(key)', () => do_not_optimize(map.get(next())));
    bench('peers.tryAcquire(key)', () => do_not_optimize(peers.tryAcquire(next())));
    bench('peers.acquire(key)', () => do_not_optimize(peers.acquire(next())));
  });
});

group('awaited', () => {
  summary(() => {
    bench('await Map.get(key)', async () => do_not_optimize(await map.get(same)));
    bench('await peers.acquire(key)', async () => do_not_optimize(await peers.acquire(same)));
  });
});

await run();
const stats = peers.stats();
console.log(
  `\nsanity: ${stats.misses} misses (the ${PEERS} connects), ${stats.size} peers, hit rate ${stats.hitRate.toFixed(6)}`,
);
await app.close();
for (const { server } of servers) server.forceShutdown();
