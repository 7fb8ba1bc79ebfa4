/**
 * `npm run bench [-- --quick] [-- --only=hot,a,b,c,d,health]`: runs every benchmark job in a child
 * process of its own, one after the other, then writes bench/results/*.json, one SVG chart
 * per scenario, summary.md, and prints the machine, the medians, the ratios and the goals.
 * `--quick` writes to bench/results/quick/ so the full run's charts stay as they are.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchPlan, STRATEGIES } from './plan.js';
import { describeMachine, machineLine } from './support/machine.js';
import { writeReport } from './support/report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (part) => !only || only.includes(part);
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
  // Health writes its own health.json and prints its lines (bench/health.js).
  if (wanted('health')) await runJob('./health.js', { plan: plan.health, outDir });
  results.machine.loadAverageAtEnd = describeMachine().loadAverage;
  results.machine.durationS = Math.round((Date.now() - started) / 1000);
  mkdirSync(outDir, { recursive: true });
  const lines = writeReport(results, outDir);
  console.log(`\n${lines.join('\n')}`);
  writeFileSync(new URL('summary.txt', `file://${outDir}`), `${lines.join('\n')}\n`);
  console.log(`\nresults in ${outDir} (${results.machine.durationS} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
