import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('./trace-pool-calls.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
/** SpanKind.CLIENT in @opentelemetry/api. */
const CLIENT = 2;

interface Traced {
  port: number;
  serverSawPeers: string[];
  spans: Array<{ name: string; kind: number; status: number; attributes: Record<string, unknown> }>;
}

/**
 * @opentelemetry/instrumentation-grpc on calls made through the pool. The calls run in a
 * child node process (see the script's header): the instrumentation patches @grpc/grpc-js
 * through Node's require(), which jest's module registry does not go through.
 */
describe('tracing with @opentelemetry/instrumentation-grpc', () => {
  it('makes one client span per call through getService() and pool.channel, naming the member address', async () => {
    if (!existsSync(DIST)) {
      throw new Error(
        `${DIST} is missing: run npm run build first (the script imports the built package)`,
      );
    }
    const calls = 4;
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, String(calls)], {
      timeout: 60_000,
    });
    const traced = JSON.parse(stdout.trim().split('\n').at(-1)!) as Traced;

    const client = traced.spans.filter((span) => span.kind === CLIENT);
    // Two calls per round: one through getService(), one through a client on pool.channel.
    expect(client).toHaveLength(2 * calls);
    for (const span of client) {
      expect(span).toMatchObject({
        name: 'grpc.echo.Echo/Unary',
        status: 0,
        attributes: {
          'rpc.system': 'grpc',
          'rpc.service': 'echo.Echo',
          'rpc.grpc.status_code': 0,
          'server.address': '127.0.0.1',
          'server.port': traced.port,
        },
      });
    }
    // The calls really went over both members' connections.
    expect(new Set(traced.serverSawPeers).size).toBe(2);
  });
});
