import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER_MAIN = fileURLToPath(new URL('./echo-server.js', import.meta.url));

/**
 * Forks an echo server process on 127.0.0.1 and resolves once it listens.
 *
 * @param {{ maxConcurrentStreams?: number, slowdown?: number, channelArgs?: object }} options
 * @returns {Promise<{ url: string, cpu(): Promise<number>, setSlowdown(n: number): void, stop(): void }>}
 *   `cpu()` is the server process's user+system CPU time so far, in µs.
 */
export function startServer(options = {}) {
  const child = fork(SERVER_MAIN, [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 0;
  child.on('message', (message) => {
    if (message.type === 'cpu') {
      pending.get(message.id)?.(message.usage.user + message.usage.system);
      pending.delete(message.id);
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('echo server did not listen within 10 s'));
    }, 10_000);
    child.once('exit', (code) => reject(new Error(`echo server exited early (code ${code})`)));
    child.on('message', (message) => {
      if (message.type !== 'listening') return;
      clearTimeout(timer);
      resolve({
        url: `127.0.0.1:${message.port}`,
        cpu() {
          const id = nextId++;
          return new Promise((done) => {
            pending.set(id, done);
            child.send({ type: 'cpu', id });
          });
        },
        setSlowdown(value) {
          child.send({ type: 'slowdown', value });
        },
        stop() {
          child.removeAllListeners('exit');
          child.disconnect();
        },
      });
    });
  });
}
