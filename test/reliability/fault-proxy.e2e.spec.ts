import net from 'node:net';
import { sleep, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';

/** A raw TCP echo server on loopback, to check the proxy's faults byte by byte. */
async function tcpEcho(): Promise<{
  port: number;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A client socket with everything it received and how it ended. */
async function dial(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  const ended: { how?: string } = {};
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('end', () => (ended.how ??= 'end'));
  socket.on('error', (error: NodeJS.ErrnoException) => (ended.how ??= error.code));
  socket.on('close', () => (ended.how ??= 'close'));
  // A connection reset at accept may die before it ever reports 'connect'.
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  return { socket, text: () => Buffer.concat(received).toString(), ended };
}

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof tcpEcho>>;
  let proxy: FaultProxy;
  const clients: net.Socket[] = [];
  const open = async () => {
    const client = await dial(proxy.port);
    clients.push(client.socket);
    return client;
  };

  beforeEach(async () => {
    echo = await tcpEcho();
    proxy = await FaultProxy.start({ targetPort: echo.port });
  });

  afterEach(async () => {
    clients.splice(0).forEach((socket) => socket.destroy());
    await proxy.stop();
    await echo.close();
  });

  it('passes bytes through, counts accepted and open connections, and listens on loopback only', async () => {
    expect(proxy.url).toBe(`127.0.0.1:${proxy.port}`);
    const a = await open();
    const b = await open();
    a.socket.write('hello');
    b.socket.write('world');
    await waitFor(() => a.text() === 'hello' && b.text() === 'world', 'both echoes');
    expect(proxy.accepted).toBe(2);
    await waitFor(() => proxy.open === 2, 'two open connections');
    a.socket.destroy();
    await waitFor(() => proxy.open === 1, 'one open connection');
    expect(proxy.accepted).toBe(2);
  });

  it('adds latency per connection without reordering bytes', async () => {
    const slow = await open();
    const fast = await open();
    proxy.connection(0).delay(1_000);
    const started = Date.now();
    for (const part of ['a', 'b', 'c']) slow.socket.write(part);
    fast.socket.write('x');
    await waitFor(() => fast.text() === 'x', 'the fast echo');
    // The other connection is not delayed: its echo is back before the slow one's first byte.
    expect(slow.text()).toBe('');
    await waitFor(() => slow.text() === 'abc', 'the slow echo');
    // 1 s there and 1 s back.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_990);
  });

  it('blackholes one connection: bytes vanish both ways, no FIN or RST, others unaffected', async () => {
    const dark = await open();
    const lit = await open();
    proxy.connection(0).blackhole();
    dark.socket.write('lost');
    lit.socket.write('kept');
    await waitFor(() => lit.text() === 'kept', 'the other connection still echoing');
    await sleep(100);
    expect(dark.text()).toBe('');
    expect(dark.ended.how).toBeUndefined();
    // The server side never heard of it either: both of its sockets are still open.
    expect(echo.sockets.size).toBe(2);
    proxy.connection(0).pass();
    dark.socket.write('again');
    await waitFor(() => dark.text() === 'again', 'forwarding again');
  });

  it('resets one connection with an RST to both sides and closes another with a FIN', async () => {
    const reset = await open();
    const closed = await open();
    const untouched = await open();
    await waitFor(() => echo.sockets.size === 3, 'three server-side sockets');
    proxy.connection(0).reset();
    proxy.connection(1).close();
    await waitFor(() => reset.ended.how !== undefined, 'the reset to arrive');
    await waitFor(() => closed.ended.how !== undefined, 'the close to arrive');
    expect(reset.ended.how).toBe('ECONNRESET');
    expect(closed.ended.how).toBe('end');
    await waitFor(() => echo.sockets.size === 1, 'the server to see both go');
    untouched.socket.write('still here');
    await waitFor(() => untouched.text() === 'still here', 'the third one echoing');
    expect(proxy.connection(0).ended).toBe('reset');
    expect(proxy.connection(1).ended).toBe('closed');
  });

  it('applies a fault to connections as it accepts them, and never dials upstream for those', async () => {
    proxy.onAccept = 'reset';
    const reset = await open();
    await waitFor(() => reset.ended.how !== undefined, 'the reset');
    expect(reset.ended.how).toBe('ECONNRESET');
    proxy.onAccept = 'close';
    const closed = await open();
    await waitFor(() => closed.ended.how !== undefined, 'the close');
    expect(closed.ended.how).toBe('end');
    expect(proxy.accepted).toBe(2);
    expect(proxy.acceptedBetween(0)).toBe(2);
    expect(proxy.connections).toHaveLength(0);
    expect(echo.sockets.size).toBe(0);
  });

  it('resets the client when nothing listens upstream', async () => {
    await echo.close();
    const client = await open();
    await waitFor(() => client.ended.how !== undefined, 'the reset');
    expect(client.ended.how).toBe('ECONNRESET');
  });

  it('bounds the connections it keeps open', async () => {
    await proxy.stop();
    proxy = await FaultProxy.start({ targetPort: echo.port, maxConnections: 2 });
    await open();
    await open();
    const third = await open();
    await waitFor(() => third.ended.how !== undefined, 'the third connection refused');
    expect(third.ended.how).toBe('ECONNRESET');
    expect(proxy.open).toBe(2);
  });
});
