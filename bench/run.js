/**
 * `npm run bench [-- --quick] [-- --only=hot,a,b,c,d,skew,spread,rolling,step,renewal,reset,health]`: runs every benchmark job in a child
 * process of its own, one after the other, then writes bench/results/*.json, one SVG chart
 * per scenario, summary.md, and prints the machine, the medians, the ratios and the goals.
 * `--quick` writes to bench/results/quick/ so the full run's charts stay as they are.
 * Every run first saves its raw results to `<results>/last-run.tmp`; `--report=<that file>`
 * writes the report again from them without measuring anything.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchPlan, RESET_ARMS, STRATEGIES } from './plan.js';
import { describeMachine, machineLine } from './support/machine.js';
import { writeReport } from './support/report.js';
import { skewReport } from './support/skew-report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (part) => !only || only.includes(part);
const reportFrom = args.find((arg) => arg.startsWith('--report='))?.slice('--report='.length);
const plan = benchPlan(quick);
const outDir = fileURLToPath(new URL(quick ? './results/quick/' : './results/', import.meta.url));

/** Runs one job file as a child process and resolves with the result it sends. */
function runJob(file, config, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(file, import.meta.url)), [JSON.stringify(config)], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    child.on('message', (message) => {
      if (message.type === 'result') result = message.result;
    });
    child.on('exit', (code) =>
      result
        ? resolve(result)
        : reject(new Error(`${file} exited with code ${code} and no result`)),
    );
  });
}

async function main() {
  if (reportFrom) {
    const results = JSON.parse(readFileSync(reportFrom, 'utf8'));
    console.log(writeReport(results, outDir).join('\n'));
    return;
  }
  const started = Date.now();
  const machine = describeMachine();
  console.log(`nestjs-grpc-pool benchmarks${quick ? ' (--quick)' : ''}`);
  console.log(`machine: ${machineLine(machine)}`);
  const results = { machine, quick };
  if (wanted('hot')) {
    const hot = { pick: [] };
    for (const strategy of STRATEGIES) {
      hot.pick.push(
        await runJob('./hot-path.js', { mode: 'pick', strategy, plan: plan.hotPath }, [
          '--expose-gc',
        ]),
      );
    }
    hot.mixed = await runJob('./hot-path.js', { mode: 'mixed', plan: plan.hotPath }, [
      '--expose-gc',
    ]);
    hot.createCall = await runJob('./hot-path.js', { mode: 'create-call', plan: plan.hotPath }, [
      '--expose-gc',
    ]);
    results.hot = { plan: plan.hotPath, ...hot };
  }
  if (wanted('d')) results.d = await runJob('./startup.js', { plan: plan.d });
  for (const scenario of ['a', 'b', 'c']) {
    if (wanted(scenario)) {
      results[scenario] = await runJob('./calls.js', { scenario, plan: plan[scenario] });
    }
  }
  if (wanted('skew')) results.skew = await runJob('./skew.js', { plan: plan.skew });
  if (wanted('spread')) {
    results.spread = await runJob('./spread.bench.js', {});
    console.log(`spread: ${JSON.stringify(results.spread)}`);
  }
  if (wanted('rolling')) results.rolling = await runJob('./rolling.js', { plan: plan.rolling });
  if (wanted('step')) results.step = await runJob('./step.js', { plan: plan.step });
  if (wanted('renewal')) results.renewal = await runJob('./renewal.js', { plan: plan.renewal });
  if (wanted('reset')) {
    // One process per arm, so no arm inherits another's grpc-js state or event-loop debt.
    const arms = [];
    for (const arm of RESET_ARMS) arms.push(await runJob('./reset.js', { arm, plan: plan.reset }));
    results.reset = { plan: plan.reset, arms };
  }
  // Health writes its own health.json and prints its lines (bench/health.js).
  if (wanted('health')) await runJob('./health.js', { plan: plan.health, outDir });
  results.machine.loadAverageAtEnd = describeMachine().loadAverage;
  results.machine.durationS = Math.round((Date.now() - started) / 1000);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(new URL('last-run.tmp', `file://${outDir}`), JSON.stringify(results));
  const lines = [...writeReport(results, outDir), ...skewReport(results, outDir)];
  console.log(`\n${lines.join('\n')}`);
  writeFileSync(new URL('summary.txt', `file://${outDir}`), `${lines.join('\n')}\n`);
  console.log(`\nresults in ${outDir} (${results.machine.durationS} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
