/**
 * Real calls, scenarios (a), (b) and (c): run as a child of `run.js` with argv[2] =
 * JSON { scenario, plan }. The echo server(s) run in processes of their own; this process
 * is the client. Sends { type: 'result', result } to the parent when done.
 */
import { STRATEGIES } from './plan.js';
import {
  grpcGcpArm,
  handMadeArm,
  nestProxyArm,
  plainClientArm,
  poolClientArm,
  poolServiceArm,
} from './support/arms.js';
import { runArms } from './support/load.js';
import { startPools } from './support/pools.js';
import { startServer } from './support/servers.js';

const { scenario, plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[${scenario}] ${line}`);

/** Pools named after their strategy (and size), all in one Nest application context. */
function poolSpecs(strategies, size, url, suffix = '') {
  return strategies.map((strategy) => ({ name: `${strategy}${suffix}`, strategy, size, url }));
}

async function scenarioA(server) {
  const app = await startPools(poolSpecs(STRATEGIES, plan.size, server.url));
  const arms = [
    plainClientArm(server.url),
    nestProxyArm(server.url),
    handMadeArm(server.url, plan.size),
    grpcGcpArm(server.url, plan.size),
    ...STRATEGIES.map((s) => poolClientArm(app.pool(s), app.state(s), s)),
    poolServiceArm(app.pool('round-robin'), app.state('round-robin')),
  ];
  return { app, arms };
}

/**
 * (b): one connection against pools of 8 (and 4) with the server's stream cap binding. Every
 * arm reports client ELU and CPU and the server's CPU, to show the machine is not the limit.
 */
async function scenarioB(server) {
  const app = await startPools([
    ...poolSpecs(['round-robin', 'least-loaded'], plan.size, server.url),
    { name: 'issue3', strategy: 'round-robin', size: plan.issue3Size, url: server.url },
  ]);
  const arms = [
    plainClientArm(server.url),
    nestProxyArm(server.url),
    grpcGcpArm(server.url, plan.size),
    poolClientArm(app.pool('round-robin'), app.state('round-robin'), 'round-robin'),
    // Round-robin starts as many calls on every member whatever its backlog; least-loaded
    // sends each call to the member with the fewest in flight, as grpc-gcp does.
    poolClientArm(app.pool('least-loaded'), app.state('least-loaded'), 'least-loaded'),
    poolServiceArm(app.pool('issue3'), app.state('issue3'), `-x${plan.issue3Size}`),
  ];
  return { app, arms };
}

async function scenarioC([fast, slow]) {
  const app = await startPools(poolSpecs(STRATEGIES, plan.size, [fast.url, slow.url]));
  const arms = STRATEGIES.map((s) => poolClientArm(app.pool(s), app.state(s), s));
  return { app, arms, targets: { fast: fast.url, slow: slow.url } };
}

async function main() {
  const servers =
    scenario === 'c'
      ? [await startServer({}), await startServer({ slowdown: plan.slowdown })]
      : [await startServer({ maxConcurrentStreams: plan.maxConcurrentStreams })];
  const setup = { a: scenarioA, b: scenarioB, c: scenarioC }[scenario];
  const { app, arms, targets } = await setup(scenario === 'c' ? servers : servers[0]);
  const levels = [];
  try {
    for (const inFlight of plan.inFlight) {
      log(`${inFlight} in flight: ${arms.length} arms, ${plan.rounds} rounds`);
      const results = await runArms({ ...plan, inFlight }, arms, servers, log);
      levels.push({ inFlight, arms: results });
    }
  } finally {
    for (const arm of arms) arm.close();
    await app.close();
    for (const server of servers) server.stop();
  }
  process.send({ type: 'result', result: { scenario, plan, targets, levels } });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
