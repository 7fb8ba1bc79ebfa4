/**
 * Reset storm (issue 14): calls ending by deadline, N per second, against a Node grpc-js
 * server with its defaults (nghttp2's rapid-reset guard: 1,000 RST_STREAM of burst per
 * connection, refilled at 33/s), beside a steady stream of calls that should succeed. One
 * arm per process, every rate on fresh connections. Run as a child of `run.js` with
 * argv[2] = JSON { arm, plan }.
 */
import grpc from '@grpc/grpc-js';
import { grpcGcpArm, nestProxyArm, plainClientArm, poolClientArm } from './support/arms.js';
import { optionKnown, startOptionalPool, startPools } from './support/pools.js';
import { startServer } from './support/servers.js';

const { arm: armName, plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[reset] ${line}`);
/** Calls still in flight this long after a cell's end are reported as stuck. */
const DRAIN_TIMEOUT_MS = 10_000;
/** The open-loop generators catch up at most this many calls per tick after a stall. */
const MAX_PER_TICK = 50;

/** Builds the arm afresh (new connections, a full bucket at the server) for one cell. */
async function makeArm(url) {
  const size = plan.poolSize;
  switch (armName) {
    case 'grpc-js':
      return plainClientArm(url);
    case 'nest-proxy':
      return nestProxyArm(url);
    case 'grpc-gcp':
      return grpcGcpArm(url, size);
    case 'pool': {
      const budget = await optionKnown('resetBudget', { burst: 1_000, perSecond: 33 });
      const app = await startPools([{ name: 'pool', url, size }]);
      return withApp(app, {
        name: 'pool',
        label: budget
          ? `pool ×${size}, resetBudget on (default)`
          : `pool ×${size}, defaults (this build has no resetBudget: a fixed pool)`,
      });
    }
    case 'pool-no-budget': {
      const label = `pool ×${size}, resetBudget: false`;
      const started = await startOptionalPool({ name: 'pool', url, size, resetBudget: false }, [
        'resetBudget',
      ]);
      if (!started.pool) return { name: armName, label, ...started };
      return withApp(started.app, { name: armName, label });
    }
    default:
      throw new Error(`reset storm: unknown arm "${armName}"`);
  }
}

function withApp(app, names) {
  const arm = poolClientArm(app.pool('pool'), app.state('pool'), 'round-robin', names);
  return { ...arm, close: () => app.close() };
}

/** Starts `perSecond` calls a second from `start()` until `stop()`, on a 10 ms timer. */
function openLoop(perSecond, makeCall) {
  const started = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond) - sent;
    for (let i = 0; i < Math.min(due, MAX_PER_TICK); i++) {
      sent++;
      makeCall();
    }
  }, 10);
  return { stop: () => clearInterval(timer), sent: () => sent };
}

/** One cell: `rate` expiring calls/s plus the steady stream, for `plan.cellMs`. */
function runCell(arm, rate) {
  return new Promise((resolve) => {
    const started = performance.now();
    const expiring = {};
    const steady = { ok: 0, failed: 0, byStatus: {} };
    let firstFailure;
    let active = 0;
    let stopping = false;
    let drainTimer;
    const statusOf = (error) => (error ? (grpc.status[error.code] ?? String(error.code)) : 'OK');
    const ended = () => {
      active--;
      if (stopping && active === 0) finish();
    };
    const expiringLoop = openLoop(rate, () => {
      active++;
      const deadline = Date.now() + plan.expiring.deadlineMs;
      arm.call(
        plan.expiring.request,
        (error) => {
          const status = statusOf(error);
          expiring[status] = (expiring[status] ?? 0) + 1;
          ended();
        },
        { deadline },
      );
    });
    const steadyLoop = openLoop(plan.steady.perSecond, () => {
      active++;
      arm.call(plan.steady.request, (error) => {
        if (error) {
          steady.failed++;
          const status = statusOf(error);
          steady.byStatus[status] = (steady.byStatus[status] ?? 0) + 1;
          firstFailure ??= `${((performance.now() - started) / 1000).toFixed(1)} s: ${error.message ?? error.details ?? status}`;
        } else {
          steady.ok++;
        }
        ended();
      });
    });
    setTimeout(() => {
      stopping = true;
      expiringLoop.stop();
      steadyLoop.stop();
      drainTimer = setTimeout(finish, DRAIN_TIMEOUT_MS);
      if (active === 0) finish();
    }, plan.cellMs);

    function finish() {
      clearTimeout(drainTimer);
      const minutes = (performance.now() - started) / 60_000;
      resolve({
        rate,
        seconds: Math.round(minutes * 60),
        expiringSent: expiringLoop.sent(),
        expiringByStatus: expiring,
        steadySent: steadyLoop.sent(),
        ...steady,
        failedPerMinute: Number((steady.failed / minutes).toFixed(1)),
        firstFailure,
        stuck: active,
      });
    }
  });
}

async function main() {
  const server = await startServer({});
  const cells = [];
  let label;
  let unavailable;
  try {
    for (const rate of plan.rates) {
      const arm = await makeArm(server.url);
      label = arm.label;
      if (!arm.call) {
        unavailable = arm.unavailable ?? `options rejected: ${arm.rejected}`;
        log(`${label}: ${unavailable}`);
        break;
      }
      await arm.ready();
      const cell = await runCell(arm, rate);
      await arm.close();
      log(
        `${label}, ${rate}/s: ${cell.failed} of ${cell.steadySent} steady calls failed (${cell.failedPerMinute}/min)${cell.firstFailure ? `, first at ${cell.firstFailure}` : ''}`,
      );
      cells.push(cell);
    }
  } finally {
    server.stop();
  }
  process.send({ type: 'result', result: { name: armName, label, unavailable, cells } });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
