import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import {
  getPoolStateToken,
  PoolArgumentError,
  PoolClosedError,
  PoolNotReadyError,
  type PoolService,
  type PoolStateService,
  type PoolStrategyName,
} from 'nestjs-grpc-pool';
import { firstValueFrom, type Observable } from 'rxjs';
import {
  ECHO_PROTO,
  EchoServer,
  unary,
  waitFor,
  type EchoReply,
  type EchoRequest,
} from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { MAX_COMMANDS, MODEL_RUNS, reportRuns, timeoutFor } from './model-runs.js';

/**
 * Level (c): the real thing, cheaply. A `PoolService` from a real Nest testing module on
 * one loopback echo server, driven by short random sequences of scaleUp / scaleDown /
 * resize / getChannel / calls (some racing the scale operations). After every step the
 * public `status()` must hold together: the expected size, ready <= size, the slots of the
 * ready members exactly 0..ready-1, in-flight counts never negative and back to 0 once the
 * calls settle, and no call failed except as it asked to.
 */

interface EchoService {
  unary(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): Observable<EchoReply>;
}

type Via = 'member' | 'pool.channel' | 'getService';

interface PendingCall {
  readonly label: string;
  /** The status code the call must end with (0: success). */
  readonly expected: number;
  readonly done: Promise<number>;
}

class Real {
  readonly pending: PendingCall[] = [];
  readonly problems: string[] = [];
  calls = 0;
  constructor(
    readonly app: PoolApp,
    readonly state: PoolStateService,
  ) {}
  get pool(): PoolService {
    return this.app.pool;
  }
}

interface Model {
  size: number;
}

/** What `status()` must show whatever the pool is doing. */
function statusProblems(real: Real, model: Model): string[] {
  const status = real.pool.status();
  const problems: string[] = [];
  if (status.size !== model.size) problems.push(`size ${status.size}, model ${model.size}`);
  // Members still draining after a scale-down are listed too, marked `draining`.
  const kept = status.members.filter((member) => !member.draining && !member.replacement);
  if (kept.length !== status.size) {
    problems.push(`${kept.length} members listed for size ${status.size}`);
  }
  if (status.ready < 0 || status.ready > status.size) {
    problems.push(`ready ${status.ready} outside 0..size ${status.size}`);
  }
  if (status.ready !== real.state.count) {
    problems.push(`ready ${status.ready}, slot table count ${real.state.count}`);
  }
  const slots = status.members
    .map((member) => member.slot)
    .filter((slot): slot is number => slot !== null)
    .sort((a, b) => a - b);
  const wanted = Array.from({ length: status.ready }, (_, slot) => slot);
  if (slots.join() !== wanted.join()) {
    problems.push(`slots of listed members [${slots.join()}], want [${wanted.join()}]`);
  }
  for (const member of status.members) {
    if (member.slot !== null && member.state !== 'READY') {
      problems.push(`member ${member.id} holds slot ${member.slot} while ${member.state}`);
    }
    if (member.inFlight < 0) problems.push(`member ${member.id} inFlight ${member.inFlight}`);
  }
  const sum = status.members.reduce((total, member) => total + member.inFlight, 0);
  if (status.inFlight !== sum) problems.push(`inFlight ${status.inFlight}, members sum ${sum}`);
  if (status.closed) problems.push('closed while running');
  return problems;
}

function verify(real: Real, model: Model): void {
  const problems = [...real.problems, ...statusProblems(real, model)];
  if (problems.length > 0) {
    throw new Error(problems.join('\n'));
  }
}

/** Whether `promise` rejects with an error of class `type` whose message matches `message`. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  message: RegExp,
): Promise<string | undefined> {
  try {
    const value = await promise;
    return `resolved ${JSON.stringify(value)} instead of rejecting with ${type.name}`;
  } catch (error) {
    return error instanceof type && message.test((error as Error).message)
      ? undefined
      : `rejected with ${String(error)}, want ${type.name} ${message}`;
  }
}

type Command = fc.AsyncCommand<Model, Real>;

class Scale implements Command {
  constructor(
    readonly what: 'scaleUp' | 'scaleDown' | 'resize',
    readonly arg: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const next =
      this.what === 'scaleUp'
        ? model.size + this.arg
        : this.what === 'scaleDown'
          ? model.size - this.arg
          : this.arg;
    const done = real.pool[this.what](this.arg);
    if (this.arg >= 1 && next >= 1) {
      const size = await done;
      if (size !== next) real.problems.push(`${this}: resolved ${size}, model ${next}`);
      model.size = next;
    } else {
      const problem = await rejectsWith(
        done,
        PoolArgumentError,
        new RegExp(`${this.what}\\((n|size)\\) got ${this.arg}`),
      );
      if (problem) real.problems.push(`${this}: ${problem}`);
    }
    verify(real, model);
  }
  toString = () => `${this.what}(${this.arg})`;
}

/** Scale calls issued together, no await between: they must run one at a time, in order. */
class RacingScale implements Command {
  constructor(readonly ops: ReadonlyArray<readonly ['scaleUp' | 'scaleDown' | 'resize', number]>) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const issued = this.ops.map(([what, arg]) => real.pool[what](arg).catch((error) => error));
    let size = model.size;
    const expected = this.ops.map(([what, arg]) => {
      const next = what === 'scaleUp' ? size + arg : what === 'scaleDown' ? size - arg : arg;
      if (arg < 1 || next < 1) return PoolArgumentError;
      size = next;
      return next;
    });
    // status() stays sound while the operations run.
    let settled = false;
    const all = Promise.all(issued).finally(() => (settled = true));
    while (!settled) {
      const status = real.pool.status();
      const kept = status.members.filter(
        (member) => !member.draining && !member.replacement,
      ).length;
      if (status.ready > status.size || kept !== status.size) {
        real.problems.push(
          `${this} in progress: ready ${status.ready}, size ${status.size}, members ${kept} (not draining)`,
        );
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await all;
    results.forEach((result, i) => {
      const want = expected[i];
      const ok = want === PoolArgumentError ? result instanceof PoolArgumentError : result === want;
      if (!ok) real.problems.push(`${this} #${i}: got ${String(result)}, want ${String(want)}`);
    });
    model.size = size;
    verify(real, model);
  }
  toString = () => `racing(${this.ops.map(([what, arg]) => `${what}(${arg})`).join(', ')})`;
}

class GetChannel implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (real.state.count === 0) {
      try {
        real.pool.getChannel();
        real.problems.push('getChannel() returned a member from an empty table');
      } catch (error) {
        if (!(error instanceof PoolNotReadyError)) real.problems.push(`getChannel: ${error}`);
      }
    } else {
      const channel = real.pool.getChannel();
      if (!(real.state.slots as readonly unknown[]).includes(channel)) {
        real.problems.push('getChannel() returned a member that holds no slot');
      }
    }
    verify(real, model);
  }
  toString = () => 'getChannel()';
}

class Calls implements Command {
  constructor(
    readonly count: number,
    readonly via: Via,
    readonly delayMs: number,
    readonly outcome: 'ok' | 'fail' | 'deadline',
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (this.via === 'member' && real.state.count === 0) {
      verify(real, model);
      return;
    }
    const failCode = this.outcome === 'fail' ? grpc.status.ABORTED : 0;
    const delayMs = this.outcome === 'deadline' ? Math.max(this.delayMs, 50) : this.delayMs;
    const deadline = this.outcome === 'deadline' ? Date.now() + 5 : Date.now() + 10_000;
    const expected =
      this.outcome === 'fail'
        ? grpc.status.ABORTED
        : this.outcome === 'deadline'
          ? grpc.status.DEADLINE_EXCEEDED
          : grpc.status.OK;
    for (let i = 0; i < this.count; i++) {
      const request: EchoRequest = { message: `${real.calls++}`, delayMs, failCode };
      let reply: Promise<EchoReply>;
      if (this.via === 'getService') {
        const service = real.pool.getService<EchoService>('Echo');
        reply = firstValueFrom(service.unary(request, new grpc.Metadata(), { deadline }));
      } else {
        const channel = this.via === 'member' ? real.pool.getChannel() : real.pool.channel;
        reply = unary(channel, request, { deadline });
      }
      real.pending.push({
        label: `${this} #${i}`,
        expected,
        done: reply.then(
          () => grpc.status.OK,
          (error: { code?: number; details?: string }) => {
            if (error.code !== expected) {
              real.problems.push(`${this}: a call failed with ${error.code} ${error.details}`);
            }
            return error.code ?? -1;
          },
        ),
      });
    }
    verify(real, model);
  }
  toString = () => `calls(${this.count} via ${this.via}, ${this.delayMs} ms, ${this.outcome})`;
}

/** Waits for every call issued so far; then no call may be left counted. */
class Settle implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await settleCalls(real);
    verify(real, model);
  }
  toString = () => 'settle()';
}

/** Waits until every member is ready; then READY and holding a slot must coincide. */
class WaitReady implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await waitFor(() => real.pool.status().ready === model.size, `${model.size} ready`, 5_000);
    for (const member of real.pool.status().members) {
      if ((member.state === 'READY') !== (member.slot !== null)) {
        real.problems.push(`member ${member.id} is ${member.state} with slot ${member.slot}`);
      }
    }
    verify(real, model);
  }
  toString = () => 'waitReady()';
}

async function settleCalls(real: Real): Promise<void> {
  const pending = real.pending.splice(0);
  const codes = await Promise.all(pending.map((call) => call.done));
  codes.forEach((code, i) => {
    if (code !== pending[i].expected) {
      real.problems.push(`${pending[i].label}: ended ${code}, want ${pending[i].expected}`);
    }
  });
  const status = real.pool.status();
  if (status.inFlight !== 0) {
    real.problems.push(`inFlight ${status.inFlight} after every call settled`);
  }
}

const scaleOp = fc.tuple(
  fc.constantFrom('scaleUp' as const, 'scaleDown' as const, 'resize' as const),
  fc.integer({ min: 0, max: 3 }),
);

const commands = [
  scaleOp.map(([what, arg]) => new Scale(what, what === 'resize' ? arg + 1 : arg || 1)),
  scaleOp.map(([what, arg]) => new Scale(what, what === 'resize' ? arg * 2 : arg)),
  fc.array(scaleOp, { minLength: 2, maxLength: 4 }).map((ops) => new RacingScale(ops)),
  fc.constant(new GetChannel()),
  fc
    .tuple(
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom<Via>('member', 'pool.channel', 'getService'),
      fc.integer({ min: 0, max: 20 }),
      fc.constantFrom('ok' as const, 'ok' as const, 'fail' as const, 'deadline' as const),
    )
    .map(([count, via, delayMs, outcome]) => new Calls(count, via, delayMs, outcome)),
  fc
    .tuple(fc.integer({ min: 20, max: 60 }), fc.constantFrom<Via>('member', 'pool.channel'))
    .map(([count, via]) => new Calls(count, via, 10, 'ok')),
  fc.constant(new Settle()),
  fc.constant(new WaitReady()),
];

describe('PoolService model (fast-check commands, real Nest module on loopback)', () => {
  let server: EchoServer;

  beforeAll(async () => {
    server = await EchoServer.start();
  });

  afterAll(() => server.stop());

  it(
    `status() holds together through scaling and calls, and counts return to 0 (${MODEL_RUNS.poolService} runs)`,
    async () => {
      const totals = { runs: 0, calls: 0, maxSize: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom<PoolStrategyName>(
            'round-robin',
            'random',
            'power-of-two',
            'least-loaded',
          ),
          fc.commands(commands, { maxCommands: MAX_COMMANDS.poolService, size: 'max' }),
          async (size, strategy, sequence) => {
            const app = await startPoolApp({
              url: server.url,
              size,
              strategy,
              drainTimeoutMs: 5_000,
              package: 'echo',
              protoPath: ECHO_PROTO,
            });
            const real = new Real(app, app.app.get(getPoolStateToken()));
            const model: Model = { size };
            try {
              await fc.asyncModelRun(() => ({ model, real }), sequence);
              await settleCalls(real);
              verify(real, model);
              totals.maxSize = Math.max(totals.maxSize, model.size);
            } finally {
              await settleCalls(real).catch(() => undefined);
              await app.close();
            }
            const closed = real.pool.status();
            if (
              !closed.closed ||
              closed.size !== 0 ||
              closed.ready !== 0 ||
              real.state.count !== 0
            ) {
              throw new Error(`after close: ${JSON.stringify(closed)}`);
            }
            const afterClose = await rejectsWith(
              real.pool.scaleUp(1),
              PoolClosedError,
              /is closed/,
            );
            if (afterClose) {
              throw new Error(`scaleUp after close: ${afterClose}`);
            }
            totals.runs++;
            totals.calls += real.calls;
          },
        ),
        { numRuns: MODEL_RUNS.poolService },
      );
      reportRuns('poolService', totals);
      expect(totals.runs).toBeGreaterThanOrEqual(MODEL_RUNS.poolService);
    },
    timeoutFor(60_000),
  );
});
