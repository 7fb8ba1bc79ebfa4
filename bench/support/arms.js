/**
 * The ways of making a unary call that the real-call scenarios compare. Every arm is
 * `{ name, label, call(request, done, options?), ready(): Promise<void>, close() }`;
 * `done(error)` is called once per call; `options` are grpc-js call options (e.g.
 * `{ deadline }`), left out on the plain path so the scenarios without them pay nothing.
 * Arms over a pool of connections also tell `members()`: how many connections they hold now.
 */
import grpc from '@grpc/grpc-js';
import grpcGcp from 'grpc-gcp';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { ECHO_PACKAGE, ECHO_PROTO, EchoClient } from './echo-proto.js';

const insecure = () => grpc.credentials.createInsecure();

/** Resolves once `client`'s channel is READY (grpc-js `waitForReady`), or fails after 10 s. */
function clientReady(client) {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
  );
}

/** Arm 1: one plain grpc-js client, what most code does. */
export function plainClientArm(url) {
  const client = new EchoClient(url, insecure());
  return {
    name: 'grpc-js',
    label: '1 grpc-js client',
    call: (request, done, options) =>
      options ? client.Unary(request, options, done) : client.Unary(request, done),
    ready: () => clientReady(client),
    close: () => client.close(),
  };
}

/** Arm 2: Nest's `ClientGrpcProxy` (as `ClientsModule.register` makes it), Observable stubs. */
export function nestProxyArm(url) {
  const proxy = new ClientGrpcProxy({ url, package: ECHO_PACKAGE, protoPath: ECHO_PROTO });
  const echo = proxy.getService('Echo');
  return {
    name: 'nest-proxy',
    label: 'Nest ClientGrpcProxy',
    // Nest passes its arguments on to the grpc-js method: (request, options) works as is.
    call: (request, done, options) =>
      (options ? echo.Unary(request, options) : echo.Unary(request)).subscribe({
        error: done,
        complete: done,
      }),
    ready: () => clientReady(proxy.getClientByServiceName('Echo')),
    close: () => proxy.close(),
  };
}

/**
 * Arm 3: `size` hand-made grpc-js clients, each with a local subchannel pool and a distinct
 * channel arg (so each has its own TCP connection), picked round-robin: the best a user
 * can do by hand.
 */
export function handMadeArm(url, size) {
  const clients = Array.from(
    { length: size },
    (_, id) =>
      new EchoClient(url, insecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'bench.client_id': id,
      }),
  );
  let next = 0;
  return {
    name: 'hand-made',
    label: `${size} hand-made clients, round-robin`,
    call(request, done) {
      const client = clients[next];
      if (++next === size) next = 0;
      client.Unary(request, done);
    },
    ready: () => Promise.all(clients.map(clientReady)),
    close: () => clients.forEach((client) => client.close()),
  };
}

/**
 * Arm 4: grpc-gcp's channel pool (`channelFactoryOverride`) at the same maximum size, with
 * its default low watermark of 100 streams per channel: it opens a new channel only when
 * every channel has that many calls in flight, and otherwise picks the least busy one.
 */
export function grpcGcpArm(url, maxSize) {
  const gcp = grpcGcp(grpc);
  const client = new EchoClient(url, insecure(), {
    channelFactoryOverride: gcp.gcpChannelFactoryOverride,
    callInvocationTransformer: gcp.gcpCallInvocationTransformer,
    gcpApiConfig: gcp.createGcpApiConfig({
      channelPool: { maxSize, maxConcurrentStreamsLowWatermark: 100 },
    }),
  });
  return {
    name: 'grpc-gcp',
    label: `grpc-gcp pool, max ${maxSize}`,
    call: (request, done, options) =>
      options ? client.Unary(request, options, done) : client.Unary(request, done),
    // grpc-gcp opens channels on demand; the warm-up round grows it to what the load needs.
    ready: () => Promise.resolve(),
    close: () => client.close(),
    // grpc-gcp has no public count; its channel factory keeps one ref per channel it opened.
    members: () => client.getChannel().channelRefs?.length ?? NaN,
  };
}

/** Arm 5: this pool, through `pool.getClient(EchoClient)` (a grpc-js client on `pool.channel`). */
export function poolClientArm(pool, state, strategy, { name, label } = {}) {
  const client = pool.getClient(EchoClient);
  const size = pool.status().size;
  return {
    name: name ?? `pool-${strategy}`,
    label: label ?? `pool ×${size} ${strategy}`,
    pool: true,
    call: (request, done, options) =>
      options ? client.Unary(request, options, done) : client.Unary(request, done),
    members: () => pool.status().size,
    ready: () => waitAllSlots(pool, state),
    close: () => {},
    counters: () => callsByTarget(pool),
  };
}

/** Arm 5, Nest style: this pool through `pool.getService('Echo')` (Nest's own stubs). */
export function poolServiceArm(pool, state, suffix = '') {
  const echo = pool.getService('Echo');
  const size = pool.status().size;
  return {
    name: `pool-getService${suffix}`,
    label: `pool ×${size} getService()`,
    pool: true,
    call: (request, done, options) =>
      (options ? echo.Unary(request, options) : echo.Unary(request)).subscribe({
        error: done,
        complete: done,
      }),
    members: () => pool.status().size,
    ready: () => waitAllSlots(pool, state),
    close: () => {},
    counters: () => callsByTarget(pool),
  };
}

async function waitAllSlots(pool, state) {
  const deadline = Date.now() + 10_000;
  while (state.count < pool.status().size) {
    if (Date.now() > deadline) throw new Error(`pool "${pool.name}" not fully ready`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Calls started so far per target, from the pool's own member counters. */
function callsByTarget(pool) {
  const byTarget = {};
  for (const member of pool.members()) {
    byTarget[member.target] = (byTarget[member.target] ?? 0) + member.callsStarted;
  }
  return byTarget;
}
