import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EchoServer, waitFor } from '../support/echo-server.js';

const APPS = new URL('./close-in-flight/', import.meta.url);
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
/** A child that neither exits nor hangs on its own within this is killed (and the test fails). */
const CHILD_LIMIT_MS = 25_000;

interface Line {
  event: string;
  [field: string]: unknown;
}

/** A child node process running one of the apps in `close-in-flight/`, its stdout as JSON lines. */
class AppProcess {
  readonly lines: Line[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child;

  constructor(script: string, port: number) {
    this.child = spawn(process.execPath, [fileURLToPath(new URL(script, APPS)), String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pending = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop()!;
      for (const part of parts) if (part.trim()) this.lines.push(JSON.parse(part) as Line);
    });
    const limit = setTimeout(() => this.child.kill('SIGKILL'), CHILD_LIMIT_MS);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        clearTimeout(limit);
        resolve({ code, signal });
      }),
    );
  }

  /** The events in the order the child printed them. */
  get events(): string[] {
    return this.lines.map((line) => line.event);
  }

  line(event: string): Line | undefined {
    return this.lines.find((line) => line.event === event);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/**
 * `app.close()` (and Nest's shutdown on a signal) with a call in flight, in a process where
 * the pool is the only thing alive: the echo server runs here, the app in a child process.
 * A close that waits on an unref'd timer leaves nothing to keep that process's event loop
 * running, so Node exits mid-close: code 13 for an unsettled top-level await (ESM), or a
 * plain exit 0 before Nest's later shutdown hooks and its re-raised signal (CJS).
 * The apps import the built package: run `npm run build` first.
 */
describe('close with a call in flight, nothing else alive in the process', () => {
  let server: EchoServer;

  beforeAll(() => {
    if (!existsSync(DIST)) {
      throw new Error(`${DIST} is missing: run npm run build first (the apps import dist/)`);
    }
  });

  beforeEach(async () => {
    server = await EchoServer.start();
  });

  afterEach(() => server.stop());

  it('ESM: a top-level await app.close() resolves after the call ends, and the process exits 0', async () => {
    const app = new AppProcess('esm-app.mjs', server.port);
    const { code, signal } = await app.exited;

    expect({ code, signal, events: app.events }).toEqual({
      code: 0,
      signal: null,
      events: ['closing', 'outcome', 'closed'],
    });
    // The call was in flight when close began, and finished whole (close drains, never cuts).
    expect(app.line('closing')).toMatchObject({ inFlight: 1 });
    expect(app.line('outcome')).toMatchObject({ code: 0, replies: [0, 1] });
  });

  it('CJS: on SIGTERM the pool drains the call, later modules shutdown hooks run, and the process dies by SIGTERM', async () => {
    const app = new AppProcess('cjs-app.cjs', server.port);
    // Boot (Nest through require(esm)) plus the call's first second, on a busy machine.
    await waitFor(() => app.line('in-flight') !== undefined, 'the call to be in flight', 20_000);
    app.kill('SIGTERM');
    const { code, signal } = await app.exited;

    expect(app.line('in-flight')).toMatchObject({
      entry: expect.stringMatching(/dist\/cjs\/index\.js$/),
      inFlight: 1,
    });

    // Nest's enableShutdownHooks() re-raises the signal once every hook has run: the exit a
    // shell reports as 143. The later hook runs only after the pool's own has resolved.
    expect({ code, signal, events: app.events }).toEqual({
      code: null,
      signal: 'SIGTERM',
      events: ['in-flight', 'outcome', 'later-hook'],
    });
    expect(app.line('outcome')).toMatchObject({ code: 0, replies: [0, 1] });
    expect(app.line('later-hook')).toMatchObject({ signal: 'SIGTERM' });
  });
});
