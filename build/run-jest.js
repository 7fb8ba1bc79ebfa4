/**
 * `npm run test:jest`: every test, in two jest runs merged into one `jest-results.json`.
 *
 * The soak's leak check counts every async resource the process makes while the soak runs.
 * A jest worker runs many test files one after the other in one process, so a grpc-js
 * channel some earlier file left reconnecting (its backoff timers re-armed forever) would
 * be counted as the soak pool's. The soak therefore runs first, in a process of its own, and
 * the rest after it; the totals and the exit code are those of both.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const SOAK = 'test/soak/soak.spec.ts';
const jest = ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--json'];
const runs = [
  { file: 'jest-results.soak.json', args: ['--runTestsByPath', SOAK] },
  { file: 'jest-results.rest.json', args: ['--testPathIgnorePatterns', '/node_modules/', SOAK] },
];

let failed = false;
const results = [];
for (const run of runs) {
  rmSync(run.file, { force: true });
  const { status } = spawnSync(
    process.execPath,
    [...jest, `--outputFile=${run.file}`, ...run.args],
    {
      stdio: 'inherit',
    },
  );
  failed ||= status !== 0;
  try {
    results.push(JSON.parse(readFileSync(run.file, 'utf8')));
    rmSync(run.file);
  } catch {
    failed = true;
  }
}
const sum = (key) => results.reduce((total, result) => total + (result[key] ?? 0), 0);
writeFileSync(
  'jest-results.json',
  JSON.stringify({
    success: !failed,
    numTotalTests: sum('numTotalTests'),
    numPassedTests: sum('numPassedTests'),
    numFailedTests: sum('numFailedTests'),
    numPendingTests: sum('numPendingTests'),
    numRuntimeErrorTestSuites: sum('numRuntimeErrorTestSuites'),
    testResults: results.flatMap((result) => result.testResults ?? []),
  }),
);
process.exit(failed ? 1 : 0);
