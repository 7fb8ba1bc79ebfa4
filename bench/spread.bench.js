/**
 * Spread: one name over three loopback addresses (127.0.0.2-4, one echo server each on one
 * port; the pool's `lookup` is the resolver we control), pool of 6. Reports the time to
 * 2/2/2, to 3/3 after one backend shuts down (gracefully, as a rolling restart does), to
 * 2/2/2 after it returns, and the calls that failed (waitForReady, 12 in flight). Then the
 * time awaitReady takes on `localhost:PORT` with the server on 127.0.0.1 only, spread
 * (localhost as ::1 and 127.0.0.1) against grpc-js resolving it (addressMode 'channel').
 */
import * as grpc from '@grpc/grpc-js';
import { Test } from '@nestjs/testing';
import { GrpcPoolModule, getPoolToken } from 'nestjs-grpc-pool';
import { EchoClient } from './support/echo-proto.js';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const RESOLVE_MS = 2_000;

function serve(host, port) {
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary: (call, callback) => setTimeout(callback, 5, null, { message: call.request.message }),
  });
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve({ server, port: bound }),
    ),
  );
}

async function pool(options) {
  const app = await Test.createTestingModule({
    imports: [GrpcPoolModule.forRoot(options)],
  }).compile();
  await app.init();
  return { app, pool: app.get(getPoolToken()) };
}

const shares = (p) => {
  const counts = {};
  for (const m of p.status().members) {
    if (m.state === 'READY' && !m.draining && m.address)
      counts[m.address] = (counts[m.address] ?? 0) + 1;
  }
  return Object.values(counts).sort().join('/');
};

/** ms until `condition` holds, checked every turn of the event loop; bounded by `limitMs`. */
async function until(condition, limitMs = 30_000) {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Math.round(performance.now() - start);
}

async function spread() {
  const first = await serve(HOSTS[0], 0);
  const servers = [first, ...(await Promise.all(HOSTS.slice(1).map((h) => serve(h, first.port))))];
  const t0 = performance.now();
  const { app, pool: p } = await pool({
    url: `spread.bench:${first.port}`,
    size: 6,
    resolveIntervalMs: RESOLVE_MS,
    lookup: async () => HOSTS.map((address) => ({ address })),
  });
  await until(() => shares(p) === '2/2/2');
  const spreadMs = Math.round(performance.now() - t0);
  const client = new EchoClient('x', grpc.credentials.createInsecure(), {
    channelOverride: p.channel,
  });
  let running = true;
  const failed = [];
  let ok = 0;
  const loops = Array.from({ length: 12 }, async () => {
    for (let i = 0; running && i < 20_000; i++) {
      await new Promise((resolve) =>
        client.Unary(
          { message: 'x' },
          new grpc.Metadata({ waitForReady: true }),
          { deadline: Date.now() + 20_000 },
          (error) => {
            if (error) failed.push(error.details);
            else ok++;
            resolve();
          },
        ),
      );
    }
  });
  const { server, port } = servers[1];
  await new Promise((resolve) => server.tryShutdown(resolve));
  const downMs = await until(() => shares(p) === '3/3', 10_000);
  const failedWhileDown = failed.length;
  const back = await serve(HOSTS[1], port);
  const backMs = await until(() => shares(p) === '2/2/2', 3 * RESOLVE_MS + 10_000);
  running = false;
  await Promise.all(loops);
  await app.close();
  [servers[0], back, servers[2]].forEach(({ server: s }) => s.forceShutdown());
  return {
    spreadMs,
    downMs,
    backMs,
    resolveIntervalMs: RESOLVE_MS,
    ok,
    failedWhileDown,
    failedOnReturn: failed.length - failedWhileDown,
  };
}

async function localhost() {
  const { server, port } = await serve('127.0.0.1', 0);
  const out = {};
  const modes = {
    channel: { addressMode: 'channel' },
    spreadSystem: {},
    spreadDualStack: { lookup: async () => [{ address: '::1' }, { address: '127.0.0.1' }] },
  };
  for (const [name, extra] of Object.entries(modes)) {
    const times = [];
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now();
      const { app, pool: p } = await pool({ url: `localhost:${port}`, size: 4, ...extra });
      await p.awaitReady(10_000);
      const readyMs = performance.now() - t0;
      await until(() => p.status().ready === 4);
      times.push({ awaitReadyMs: readyMs, allReadyMs: performance.now() - t0 });
      await app.close();
    }
    const median = (key) =>
      times
        .map((t) => t[key])
        .sort((a, b) => a - b)[2]
        .toFixed(1);
    out[name] = { awaitReadyMs: median('awaitReadyMs'), allReadyMs: median('allReadyMs') };
  }
  server.forceShutdown();
  return out;
}

const result = { spread: await spread(), localhost: await localhost() };
if (process.send) process.send({ type: 'result', result });
else console.log(JSON.stringify(result, null, 2));
process.exit(0);
