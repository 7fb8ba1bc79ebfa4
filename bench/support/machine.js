import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const versionOf = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'unknown';
  }
};

/** What the numbers were measured on: compare absolute figures only within one run. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
    versions: Object.fromEntries(
      ['@grpc/grpc-js', '@nestjs/core', '@nestjs/microservices', 'grpc-gcp', 'mitata'].map(
        (name) => [name, versionOf(name)],
      ),
    ),
  };
}

/** One line for the console and the charts. */
export function machineLine(machine) {
  return `${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, grpc-js ${machine.versions['@grpc/grpc-js']}, load average ${machine.loadAverage.join(' / ')} at start, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`;
}
