// Calls through a pool with @opentelemetry/instrumentation-grpc on, and prints the client
// spans as one JSON line. It runs as its own node process (from trace.e2e.spec.ts) because
// the instrumentation patches @grpc/grpc-js as Node's require() loads it, which jest's own
// module registry bypasses. It imports the built package (dist/): run `npm run build` first.
import { createRequire } from 'node:module';
import { fileURLToPath, URL } from 'node:url';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new GrpcInstrumentation()],
});

// Loaded only now, so that the instrumentation patches grpc-js as it loads.
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { Test } = await import('@nestjs/testing');
const { GrpcPoolModule, getPoolToken } = await import('nestjs-grpc-pool');
const { firstValueFrom } = await import('rxjs');

const CALLS = Number(process.argv[2] ?? 4);
const protoPath = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));
const echo = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)).echo;

const server = new grpc.Server();
server.addService(echo.Echo.service, {
  Unary: (call, callback) =>
    callback(null, { message: call.request.message, peer: call.getPeer() }),
});
const port = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);

const app = await Test.createTestingModule({
  imports: [
    GrpcPoolModule.forRoot({
      url: `127.0.0.1:${port}`,
      size: 2,
      package: 'echo',
      protoPath,
      readyTimeoutMs: 10_000,
    }),
  ],
}).compile();
await app.init();
const pool = app.get(getPoolToken());
try {
  const service = pool.getService('Echo');
  const client = new echo.Echo('unused', grpc.credentials.createInsecure(), {
    channelOverride: pool.channel,
  });
  const peers = [];
  for (let i = 0; i < CALLS; i++) {
    peers.push((await firstValueFrom(service.unary({ message: `service-${i}` }))).peer);
    peers.push(
      await new Promise((resolve, reject) =>
        client.Unary({ message: `channel-${i}` }, (error, reply) =>
          error ? reject(error) : resolve(reply.peer),
        ),
      ),
    );
  }
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans().map((span) => ({
    name: span.name,
    kind: span.kind,
    status: span.status.code,
    attributes: span.attributes,
  }));
  console.log(JSON.stringify({ port, serverSawPeers: peers, spans }));
} finally {
  await app.close();
  server.forceShutdown();
}
