import { startSample } from './bootstrap.js';

/**
 * `npm run sample`: the embedded hero server and the Nest app in one process.
 * Env: PORT (HTTP, default 3000, 0 = any free port), HOST (default 127.0.0.1),
 * HERO_GRPC_PORT (embedded gRPC server, default 0 = any free port).
 */
const sample = await startSample({
  httpPort: Number(process.env.PORT ?? 3000),
  httpHost: process.env.HOST,
  grpcPort: Number(process.env.HERO_GRPC_PORT ?? 0),
});
// Ctrl-C / SIGTERM: HTTP stops, the pool drains, then the hero server stops (see SampleModule).
sample.app.enableShutdownHooks();

const base = sample.httpUrl.replace('127.0.0.1', 'localhost');
console.log(`
Hero backend (gRPC) on ${sample.grpcUrl}; HTTP API on ${sample.httpUrl}. Try:

  curl ${base}/heroes/1      # FindOne through the pool
  curl ${base}/heroes/999    # NOT_FOUND -> 404
  curl ${base}/heroes        # FindMany stream -> JSON array (?name=o filters)
  curl ${base}/pool          # pool status: members, states, calls
  curl ${base}/health        # Terminus readiness

Ctrl-C to stop.
`);
