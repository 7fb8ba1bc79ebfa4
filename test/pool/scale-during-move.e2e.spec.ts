/**
 * Issue 18, defect 8: a scale-down that runs while an address-spread move is under way must
 * remove exactly what it was asked to. A move is make-before-break: a new member dials the
 * new address while the old one serves; `scaleDown(1)` asked meanwhile must leave the pool
 * one member smaller than it was (the move's new member is not a member the user counted),
 * resolve with that size, and never take the pool below it (nor, with autoscale, below
 * `min`).
 *
 * The move is made deterministic with a gate on the new address: it accepts TCP and holds
 * every connection silent (grpc-js waits for the server's SETTINGS, the member stays
 * CONNECTING) until the test opens it, then pipes them to a real echo server.
 *
 * Failure seen on the code before the lifecycle rewrite (commit 19fef65), run with
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     test/pool/scale-during-move.e2e.spec.ts
 * - scaleDown(1) while the new member connects (pool of 3): resolved with 3 and the pool
 *   stayed at 3: the scale-down took the move's new member (not ready, so first to go) and
 *   counted it as one of the user's, so nothing the user had was removed.
 * - scaleDown(1) asked the instant the new member connects: resolved with 3, the pool then
 *   went to 2 (the scale-down took the new member, the move then drained the old one).
 * - autoscale { min: 2 }, pool of 2: scaleDown(1) was accepted (the bound was checked
 *   against 3, the new member counted) and the pool went to 1, below min: 1 ready member.
 * (The issue saw `scaleDown(1)` resolve with two fewer; here the miscount shows as the move's
 * new member being counted by the scale-down, in both directions.)
 */
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import {
  POOL_EVENTS,
  type AddressLookup,
  type GrpcPoolOptions,
  type MemberConnectedEvent,
  type MemberMovedEvent,
  type PoolService,
  PoolArgumentError,
} from 'nestjs-grpc-pool';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

const OLD_HOST = '127.0.0.2';
const NEW_HOST = '127.0.0.3';

/**
 * A TCP listener on `host:port` that holds each connection unread until `open()`, then
 * pipes it (and every later one) to `127.0.0.1:targetPort`.
 */
class Gate {
  private opened = false;
  private readonly held: net.Socket[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (client) => {
      this.track(client);
      if (this.opened) this.pipe(client);
      else this.held.push(client);
    });
  }

  static async listen(host: string, port: number, targetPort: number): Promise<Gate> {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new Gate(server, targetPort);
  }

  /** Connections held so far, unanswered. */
  get holding(): number {
    return this.held.length;
  }

  open(): void {
    this.opened = true;
    for (const client of this.held.splice(0)) this.pipe(client);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private pipe(client: net.Socket): void {
    if (client.destroyed) return;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.resume();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/** A lookup whose answer the test changes: first the old host only, then both. */
function switchableLookup(): AddressLookup & { answer: string[] } {
  const lookup = Object.assign(async () => lookup.answer.map((address) => ({ address })), {
    answer: [OLD_HOST],
  });
  return lookup;
}

/** The old backend on OLD_HOST:port and a gate on NEW_HOST:port (same port: one name). */
async function twoAddresses(): Promise<{ old: EchoServer; next: EchoServer; gate: Gate }> {
  const next = await EchoServer.start();
  for (let attempt = 0; ; attempt++) {
    const old = await EchoServer.start({ host: OLD_HOST });
    try {
      const gate = await Gate.listen(NEW_HOST, old.port, next.port);
      return { old, next, gate };
    } catch (error) {
      old.stop();
      if (attempt === 5) {
        next.stop();
        throw error;
      }
    }
  }
}

describe('a scale-down during an address-spread move', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * Starts a pool of `size` on one name that resolves to OLD_HOST, then makes the name resolve to
   * OLD_HOST and NEW_HOST: the next resolution moves one serving member make-before-break,
   * and its new member hangs CONNECTING at the gate. Resolves with the pool at that moment.
   */
  async function poolMidMove(size: number, extra: Partial<GrpcPoolOptions> = {}) {
    const { old, next, gate } = await twoAddresses();
    cleanups.push(
      () => old.stop(),
      () => next.stop(),
      () => gate.close(),
    );
    const lookup = switchableLookup();
    const moved: MemberMovedEvent[] = [];
    const onMoved = (event: unknown) => moved.push(event as MemberMovedEvent);
    diagnostics.subscribe(POOL_EVENTS.memberMoved, onMoved);
    cleanups.push(() => diagnostics.unsubscribe(POOL_EVENTS.memberMoved, onMoved));
    const app: PoolApp = await startPoolApp({
      name: 'move',
      url: `spread.test:${old.port}`,
      size,
      lookup,
      resolveIntervalMs: 300,
      drainTimeoutMs: 100,
      backoff: { initialMs: 100, maxMs: 200 },
      ...extra,
    });
    cleanups.push(() => app.close());
    const pool = app.pool;
    await waitFor(() => pool.status().ready === size, 'every member ready on the old address');

    // Sampled from here on: the fewest members the pool kept (not counting draining ones).
    let leastSize = Infinity;
    const sampler = setInterval(() => {
      leastSize = Math.min(leastSize, kept(pool));
    }, 5);
    cleanups.push(() => clearInterval(sampler));

    lookup.answer = [OLD_HOST, NEW_HOST];
    const newAddress = `${NEW_HOST}:${old.port}`;
    await waitFor(
      () =>
        gate.holding >= 1 &&
        pool.status().members.some((m) => m.address === newAddress && m.state === 'CONNECTING'),
      "the move's new member connecting to the new address",
    );
    return {
      pool,
      gate,
      moved,
      newAddress,
      leastSize: () => leastSize,
    };
  }

  /** Members the pool keeps, as status() lists them (draining ones are leaving). */
  const kept = (pool: PoolService) =>
    pool.status().members.filter((m) => !m.draining && !m.replacement).length;

  /**
   * The move is over, one way or the other (a member ready on the new address, or the move
   * given up): every member listed is READY, none draining, all in the slot table.
   */
  const settled = (pool: PoolService) => {
    const status = pool.status();
    return (
      status.members.every((m) => m.state === 'READY' && !m.draining) &&
      status.ready === status.members.length
    );
  };

  it('scaleDown(1) while the new member connects: resolves with size - 1, and the pool never goes below it', async () => {
    const { pool, gate, moved, newAddress, leastSize } = await poolMidMove(3);
    const scaled = pool.scaleDown(1);
    // The move finishes: its new member becomes READY on the new address.
    gate.open();
    const size = await scaled;
    await waitFor(() => settled(pool), 'the move settled', 10_000);
    expect({
      resolvedWith: size,
      sizeAfter: pool.status().size,
      readyAfter: pool.status().ready,
      leastSize: leastSize(),
    }).toEqual({ resolvedWith: 2, sizeAfter: 2, readyAfter: 2, leastSize: 2 });
    // The spread still holds: the move put a member on the new address.
    expect(moved.some((event) => event.makeBeforeBreak && event.to === newAddress)).toBe(true);
  });

  /**
   * Opens the gate and asks `scaleDown(1)` synchronously where the move's new member
   * becomes READY (its memberConnected event), before the move takes its next step.
   * Resolves with what scaleDown resolved with, or its error.
   */
  async function scaleDownAsNewMemberConnects(
    pool: PoolService,
    gate: Gate,
    newAddress: string,
  ): Promise<number | Error> {
    let scaled: Promise<number | Error> | undefined;
    const onConnected = (event: unknown) => {
      const id = (event as MemberConnectedEvent).memberId;
      const member = pool.status().members.find((m) => m.id === id);
      if (scaled === undefined && member?.address === newAddress) {
        scaled = pool.scaleDown(1).catch((error: Error) => error);
      }
    };
    diagnostics.subscribe(POOL_EVENTS.memberConnected, onConnected);
    cleanups.push(() => diagnostics.unsubscribe(POOL_EVENTS.memberConnected, onConnected));
    gate.open();
    await waitFor(() => scaled !== undefined, 'the new member connected and scaleDown(1) asked');
    return scaled!;
  }

  it('scaleDown(1) asked the instant the new member connects: resolves with size - 1, and the pool never goes below it', async () => {
    const { pool, gate, newAddress, leastSize } = await poolMidMove(3);
    const size = await scaleDownAsNewMemberConnects(pool, gate, newAddress);
    await waitFor(() => settled(pool), 'the move settled', 10_000);
    expect({
      resolvedWith: size,
      sizeAfter: pool.status().size,
      readyAfter: pool.status().ready,
      leastSize: leastSize(),
    }).toEqual({ resolvedWith: 2, sizeAfter: 2, readyAfter: 2, leastSize: 2 });
  });

  it('with autoscale at min: scaleDown(1) during a move is refused (outside the bounds) and the pool never goes below min', async () => {
    const { pool, gate, newAddress, leastSize } = await poolMidMove(2, {
      autoscale: { min: 2, max: 4, sampleIntervalMs: 60_000 },
    });
    const outcome = await scaleDownAsNewMemberConnects(pool, gate, newAddress);
    await waitFor(() => settled(pool), 'the move settled', 10_000);
    expect({
      refused: outcome instanceof PoolArgumentError,
      sizeAfter: pool.status().size,
      readyAfter: pool.status().ready,
      leastSize: leastSize(),
    }).toEqual({ refused: true, sizeAfter: 2, readyAfter: 2, leastSize: 2 });
    expect((outcome as Error).message).toMatch(/outside its autoscale bounds \[2, 4\]/);
  });
});
