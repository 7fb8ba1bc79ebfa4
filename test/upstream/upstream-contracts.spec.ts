import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { FailedCall } from '../../lib/channel/failed-call.js';
import { CountedCall } from '../../lib/member/counted-call.js';
import { ECHO_PROTO } from '../support/echo-server.js';

/**
 * What the pool relies on in grpc-js and Nest beyond their documented API. Each test fails
 * with a message that says what changed upstream and where the pool depends on it.
 */
describe('upstream contracts the pool depends on', () => {
  const require = createRequire(import.meta.url);
  const grpcRoot = dirname(require.resolve('@grpc/grpc-js/package.json'));
  const grpcVersion = (require('@grpc/grpc-js/package.json') as { version: string }).version;

  /** Method names of grpc-js's `Call` interface, as the installed grpc-js declares it. */
  function callInterfaceMethods(): string[] {
    const declarations = readFileSync(join(grpcRoot, 'build/src/call-interface.d.ts'), 'utf8');
    const body = /export interface Call \{([\s\S]*?)\n\}/.exec(declarations)?.[1];
    if (body === undefined) {
      throw new Error(`@grpc/grpc-js ${grpcVersion}: no \`interface Call\` in call-interface.d.ts`);
    }
    return [...body.matchAll(/^\s+(\w+)\(/gm)].map((match) => match[1]).sort();
  }

  it.each([
    ['CountedCall (every call on a member)', CountedCall.prototype],
    ['FailedCall (calls on a closed pool)', FailedCall.prototype],
  ])('%s forwards every method of the installed grpc-js Call interface', (_name, prototype) => {
    const missing = callInterfaceMethods().filter(
      (method) => typeof (prototype as unknown as Record<string, unknown>)[method] !== 'function',
    );
    expect({ grpcVersion, missing }).toEqual({ grpcVersion, missing: [] });
  });

  it('grpc-js credentials still answer _isSecure() (option checks tell TLS targets from plaintext ones by it)', () => {
    expect(grpc.credentials.createInsecure()._isSecure()).toBe(false);
    expect(grpc.credentials.createSsl()._isSecure()).toBe(true);
  });

  it("Nest's ClientGrpcProxy loads its packages through createClients() in its constructor (getService() lists services from it)", () => {
    const seen: unknown[] = [];
    class Probe extends ClientGrpcProxy {
      override createClients(): unknown[] {
        const packages = super.createClients() as unknown[];
        seen.push(...packages);
        return packages;
      }
    }
    new Probe({ url: '127.0.0.1:1', package: 'echo', protoPath: ECHO_PROTO });
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] as object)).toContain('Echo');
  });
});
