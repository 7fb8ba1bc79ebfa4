/**
 * Health benchmark (issue 13): three backends under a closed-loop load through one pool with
 * `healthCheck`; one backend switches to NOT_SERVING, then back to SERVING. Measures, with
 * Watch and with Check-only servers: how long until the pool holds that backend's members out
 * (its share of calls then 0), how many calls started after that still reached it, how long
 * until it takes calls again after SERVING, and the client's CPU (to show it is not the
 * bottleneck). Every loop is bounded in time. Run: `npm run bench -- --only=health`.
 */
import diagnostics from 'node:diagnostics_channel';
import { fork } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { POOL_EVENTS } from 'nestjs-grpc-pool';
import { EchoClient } from './support/echo-proto.js';
import { startPools } from './support/pools.js';
import * as grpc from '@grpc/grpc-js';

const { plan, outDir } = JSON.parse(process.argv[2]);
const SERVER_MAIN = fileURLToPath(new URL('./support/health-echo-server.js', import.meta.url));

function startHealthServer(label, watch) {
  const child = fork(SERVER_MAIN, [JSON.stringify({ label, watch })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('health server did not listen')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({
        url: `127.0.0.1:${message.port}`,
        setHealth: (status) =>
          new Promise((done) => {
            child.once('message', done);
            child.send({ type: 'health', status });
          }),
        stop: () => child.disconnect(),
      });
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with performance.now() once `count` events of `name` for `target` arrive, or rejects after `timeoutMs`. */
function whenEvents(name, target, count, timeoutMs) {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      diagnostics.unsubscribe(name, listener);
      reject(new Error(`${name} x${count} for ${target} not seen within ${timeoutMs} ms`));
    }, timeoutMs);
    function listener(event) {
      if (event.target === target && ++seen === count) {
        clearTimeout(timer);
        diagnostics.unsubscribe(name, listener);
        resolve(performance.now());
      }
    }
    diagnostics.subscribe(name, listener);
  });
}

async function runMode(mode) {
  const watch = mode === 'watch';
  const servers = await Promise.all(
    ['0', '1', '2'].map((label) => startHealthServer(label, watch)),
  );
  const { intervalMs, timeoutMs } = plan;
  const started = await startPools([
    {
      name: `health-${mode}`,
      url: servers.map((server) => server.url),
      size: plan.size,
      healthCheck: { intervalMs, timeoutMs },
    },
  ]);
  const pool = started.pool(`health-${mode}`);
  const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
    channelOverride: pool.channel,
  });
  // Each call: [start time, serving backend label].
  const calls = [];
  let running = true;
  let failed = 0;
  const loop = async () => {
    while (running && calls.length < plan.maxCalls) {
      const start = performance.now();
      const label = await new Promise((resolve) =>
        client.Unary({ message: 'x', delayMs: plan.delayMs }, (error, reply) =>
          resolve(error ? (failed++, 'error') : reply.message),
        ),
      );
      calls.push([start, label]);
    }
  };
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const wallStart = performance.now();
  const loops = Array.from({ length: plan.inFlight }, loop);
  await sleep(plan.phaseMs);

  const sick = servers[0];
  const outEvents = whenEvents(POOL_EVENTS.memberOut, sick.url, plan.size / 3, 30_000);
  // Timed from the request to the server: a Watch push can beat the server's IPC answer.
  const switchedOut = performance.now();
  await sick.setHealth('NOT_SERVING');
  const outAt = await outEvents;
  await sleep(plan.phaseMs);

  const backEvents = whenEvents(POOL_EVENTS.memberBack, sick.url, plan.size / 3, 30_000);
  const switchedBack = performance.now();
  await sick.setHealth('SERVING');
  const backAt = await backEvents;
  await sleep(plan.phaseMs);
  running = false;
  await Promise.all(loops);
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  const elu = performance.eventLoopUtilization(eluStart);
  client.close();
  await started.close();
  servers.forEach((server) => server.stop());

  const share = (from, to) => {
    const window = calls.filter(([start]) => start >= from && start < to);
    const onSick = window.filter(([, label]) => label === '0').length;
    return { calls: window.length, onSick, share: window.length ? onSick / window.length : 0 };
  };
  const firstBack = calls.find(([start, label]) => start >= switchedBack && label === '0');
  return {
    mode,
    outMs: Math.round(outAt - switchedOut),
    boundMs: watch ? 0 : intervalMs + timeoutMs,
    callsToSickAfterOut: share(outAt, switchedBack).onSick,
    backMs: Math.round(backAt - switchedBack),
    firstCallBackMs: firstBack ? Math.round(firstBack[0] - switchedBack) : null,
    before: share(wallStart, switchedOut),
    whileOut: share(outAt, switchedBack),
    after: share(backAt, Infinity),
    calls: calls.length,
    failed,
    rps: Math.round(calls.length / (wallMs / 1000)),
    clientCpuCores: Number(((cpu.user + cpu.system) / 1000 / wallMs).toFixed(3)),
    clientElu: Number(elu.utilization.toFixed(3)),
  };
}

const modes = [];
for (const mode of ['watch', 'check']) modes.push(await runMode(mode));
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const lines = [
  `Health: pool of ${plan.size} over 3 backends, ${plan.inFlight} in flight, ${plan.delayMs} ms handler; backend 0 NOT_SERVING, then SERVING (intervalMs ${plan.intervalMs}, timeoutMs ${plan.timeoutMs})`,
  ...modes.map(
    (m) =>
      `  ${m.mode}: out after ${m.outMs} ms (bound ${m.boundMs || 'at once'}), calls to it after: ${m.callsToSickAfterOut}, share ${pct(m.before.share)} -> ${pct(m.whileOut.share)} -> ${pct(m.after.share)}, all its members back after ${m.backMs} ms (first call on it after ${m.firstCallBackMs} ms), ${m.rps} req/s, ${m.failed} failed, client CPU ${m.clientCpuCores} cores, ELU ${m.clientElu}`,
  ),
];
console.log(lines.join('\n'));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'health.json'), `${JSON.stringify({ plan, modes }, null, 2)}\n`);
process.send({ type: 'result', result: { lines, modes } });
process.exit(0);
