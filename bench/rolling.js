/**
 * Rolling restart (issue 18): three backends behind one name (127.0.0.2-4 on one port, the
 * pool's `lookup` answers them), each in turn shut down for `downMs` and started again on the
 * same ip:port, once with tryShutdown (GOAWAY) and once with forceShutdown. The pool (default
 * options but `size`) and one grpc-js channel with round_robin over the same three addresses
 * run side by side under the same steady load in the same roll. Reports failed/total per arm,
 * how the members (pool) and the calls (both) spread after the roll, the time from the last
 * backend's return to an even spread, and the client's CPU and event-loop utilisation (the
 * backends run in a process of their own). Run as a child of `run.js` with argv[2] = JSON { plan }.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Test } from '@nestjs/testing';
import { GrpcPoolModule, getPoolToken } from 'nestjs-grpc-pool';
import { EchoClient } from './support/echo-proto.js';

const { plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[rolling] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The backends' process and a promise per request to it. */
function startBackends(hosts) {
  const child = fork(fileURLToPath(new URL('./support/rolling-backends.js', import.meta.url)), [
    JSON.stringify({ hosts }),
  ]);
  const pending = new Map();
  let nextId = 0;
  const ask = (message) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
      child.send({ ...message, id });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`backends exited (code ${code})`)));
    child.on('message', (message) => {
      if (message.type === 'done') {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      } else if (message.type === 'listening') {
        resolve({
          port: message.port,
          down: (index, mode) => ask({ type: 'down', index, mode }),
          up: (index) => ask({ type: 'up', index }),
          cpuUs: async () => (await ask({ type: 'cpu' })).cpuUs,
          stop: () => {
            child.removeAllListeners('exit');
            child.disconnect();
          },
        });
      }
    });
  });
}

/** `concurrency` loops of unary calls on `channel`, counting outcomes and calls per backend. */
function steadyLoad(channel, { concurrency, request, deadlineMs, maxCallsPerLoop }) {
  const client = new EchoClient('rolling', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  const stats = { total: 0, failed: 0, failures: {}, perBackend: {} };
  let running = true;
  const one = () =>
    new Promise((resolve) =>
      client.Unary(request, { deadline: Date.now() + deadlineMs }, (error, reply) => {
        stats.total++;
        if (error) {
          stats.failed++;
          const key = `${grpc.status[error.code]}: ${error.details.split('. Last error')[0]}`;
          stats.failures[key] = (stats.failures[key] ?? 0) + 1;
        } else {
          stats.perBackend[reply.message] = (stats.perBackend[reply.message] ?? 0) + 1;
        }
        resolve();
      }),
    );
  const loops = Array.from({ length: concurrency }, async () => {
    for (let i = 0; running && i < maxCallsPerLoop; i++) await one();
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      client.close();
    },
  };
}

/** Serving members per backend, in `hosts` order. */
function members(pool, hosts, port) {
  const counts = hosts.map(() => 0);
  for (const m of pool.status().members) {
    const index = hosts.findIndex((host) => m.address === `${host}:${port}`);
    if (m.state === 'READY' && !m.draining && index >= 0) counts[index]++;
  }
  return counts;
}

const even = (counts, size) =>
  counts.reduce((a, b) => a + b, 0) === size &&
  counts.every((n) => Math.abs(n - size / counts.length) <= 1);

/** ms until `condition` holds (polled every 10 ms), or undefined after `limitMs`. */
async function until(condition, limitMs) {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > limitMs) return undefined;
    await sleep(10);
  }
  return Math.round(performance.now() - start);
}

async function roll(mode, backends) {
  const { hosts, size } = plan;
  const { port } = backends;
  const app = await Test.createTestingModule({
    imports: [
      GrpcPoolModule.forRoot({
        url: `rolling.bench:${port}`,
        size,
        lookup: async () => hosts.map((address) => ({ address })),
      }),
    ],
  }).compile();
  await app.init();
  const pool = app.get(getPoolToken());
  const roundRobin = new grpc.Channel(
    `ipv4:${hosts.map((host) => `${host}:${port}`).join(',')}`,
    grpc.credentials.createInsecure(),
    { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  );
  roundRobin.getConnectivityState(true);
  const ready = await until(
    () =>
      even(members(pool, hosts, port), size) &&
      roundRobin.getConnectivityState(false) === grpc.connectivityState.READY,
    10_000,
  );
  if (ready === undefined) throw new Error('pool or round_robin not ready within 10 s');

  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const serverCpuStart = await backends.cpuUs();
  const wallStart = performance.now();
  const loads = { pool: steadyLoad(pool.channel, plan), roundRobin: steadyLoad(roundRobin, plan) };
  for (let index = 0; index < hosts.length; index++) {
    await backends.down(index, mode);
    await sleep(plan.downMs);
    await backends.up(index);
    if (index < hosts.length - 1) await sleep(plan.upMs);
  }
  const evenMs = await until(() => even(members(pool, hosts, port), size), plan.evenBoundMs);
  const spreadAtEven = members(pool, hosts, port);
  const equalMs = await until(
    () => members(pool, hosts, port).every((n) => n === size / hosts.length),
    plan.evenBoundMs,
  );
  // Calls per backend once the roll is over, for both arms.
  for (const load of Object.values(loads)) load.stats.perBackend = {};
  await sleep(plan.afterMs);
  const after = Object.fromEntries(
    Object.entries(loads).map(([name, load]) => [
      name,
      hosts.map((host) => load.stats.perBackend[host] ?? 0),
    ]),
  );
  const spreadAfter = members(pool, hosts, port);
  await Promise.all(Object.values(loads).map((load) => load.stop()));
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  const elu = performance.eventLoopUtilization(eluStart);
  const serverCpuUs = (await backends.cpuUs()) - serverCpuStart;
  await app.close();
  roundRobin.close();
  const arm = (name) => ({
    total: loads[name].stats.total,
    failed: loads[name].stats.failed,
    failures: loads[name].stats.failures,
    callsPerBackendAfter: after[name],
  });
  const result = {
    mode,
    pool: {
      ...arm('pool'),
      membersAtEven: spreadAtEven,
      membersAfter: spreadAfter,
      evenMs: evenMs ?? null,
      equalMs: equalMs === undefined ? null : (evenMs ?? 0) + equalMs,
    },
    roundRobin: arm('roundRobin'),
    wallS: Number((wallMs / 1_000).toFixed(1)),
    clientCores: Number(((cpu.user + cpu.system) / 1_000 / wallMs).toFixed(2)),
    clientElu: Number(elu.utilization.toFixed(3)),
    serverCores: Number((serverCpuUs / 1_000 / wallMs).toFixed(2)),
  };
  log(JSON.stringify(result));
  return result;
}

async function main() {
  const backends = await startBackends(plan.hosts);
  const modes = [];
  try {
    for (const mode of plan.modes) modes.push(await roll(mode, backends));
  } finally {
    backends.stop();
  }
  process.send({ type: 'result', result: { plan, modes } });
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
