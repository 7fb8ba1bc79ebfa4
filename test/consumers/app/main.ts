import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { AppModule } from './app.module.js';
import { startHeroBackend } from './hero-backend.js';

type Check = [name: string, path: string, pass: (status: number, body: unknown) => boolean];

const isHero = (id: number) => (status: number, body: unknown) =>
  status === 200 && JSON.stringify(body) === JSON.stringify({ id, name: `hero ${id}` });

const CHECKS: Check[] = [
  ['getService()', '/heroes/service/7', isHero(7)],
  ['getClient()', '/heroes/client/8', isHero(8)],
  [
    '/health',
    '/health',
    (status, body) => status === 200 && (body as { status?: string }).status === 'ok',
  ],
];

/**
 * Boots the app against a loopback backend, calls each route over HTTP and prints one line
 * per check, then `<app>: N passed, N failed` (the exit code is 1 on any failure).
 */
async function main(): Promise<void> {
  const nest = JSON.parse(readFileSync('node_modules/@nestjs/core/package.json', 'utf8'));
  const format = typeof module === 'object' ? 'CommonJS' : 'ESM';
  const label = `Nest ${nest.version} ${format}`;
  const backend = await startHeroBackend();
  const app = await NestFactory.create(AppModule.forBackend(backend.url), {
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  let failed = 0;
  for (const [name, path, pass] of CHECKS) {
    const response = await fetch(base + path);
    const body: unknown = await response.json();
    const ok = pass(response.status, body);
    failed += ok ? 0 : 1;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${label} ${name}: GET ${path} ${response.status} ${JSON.stringify(body)}`,
    );
  }
  await app.close();
  await backend.close();
  console.log(`${label}: ${CHECKS.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
