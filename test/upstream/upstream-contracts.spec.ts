import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { FailedCall } from '../../lib/channel/failed-call.js';
import { CountedCall } from '../../lib/member/counted-call.js';
import { callReach, type CallReach } from '../../lib/member/call-reach.js';
import type { Call } from '../../lib/member/grpc-types.js';
import { ECHO_PROTO, EchoClient, type EchoReply } from '../support/echo-server.js';
import { refusingServer } from '../support/refusing-server.js';

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

  describe("grpc-js calls keep how far each attempt got in the private fields callReach reads (re-picking a call that reached no server depends on it; on 'unknown' the pool stops re-picking)", () => {
    /** One unary Echo call made directly on `channel`; resolves with its status and reach. */
    function rawCall(channel: grpc.Channel): Promise<{ code: number; reach: CallReach }> {
      const call = channel.createCall('/echo.Echo/Unary', Date.now() + 10_000, null, null, 0);
      return new Promise((resolve) => {
        call.start(new grpc.Metadata(), {
          onReceiveMetadata: () => {},
          onReceiveMessage: () => {},
          onReceiveStatus: (status) => resolve({ code: status.code, reach: callReach(call) }),
        });
        call.sendMessageWithContext({}, Buffer.alloc(0));
        call.halfClose();
        call.startRead();
      });
    }
    const insecure = grpc.credentials.createInsecure();

    it("'unsent': no connection (a closed port, fail fast)", async () => {
      const channel = new grpc.Channel('127.0.0.1:1', insecure, {});
      try {
        expect({ grpcVersion, ...(await rawCall(channel)) }).toEqual({
          grpcVersion,
          code: grpc.status.UNAVAILABLE,
          reach: 'unsent',
        });
      } finally {
        channel.close();
      }
    });

    it("'refused': every stream refused (RST_STREAM REFUSED_STREAM)", async () => {
      const server = await refusingServer(Infinity);
      const channel = new grpc.Channel(server.url, insecure, {});
      try {
        expect({ grpcVersion, ...(await rawCall(channel)) }).toEqual({
          grpcVersion,
          code: grpc.status.UNAVAILABLE,
          reach: 'refused',
        });
      } finally {
        channel.close();
        server.close();
      }
    });

    it("'sent': a server answered UNAVAILABLE with the text of a refused stream", async () => {
      const server = new grpc.Server();
      server.addService(EchoClient.service, {
        Unary: (_call: unknown, callback: grpc.sendUnaryData<EchoReply>) =>
          callback({ code: grpc.status.UNAVAILABLE, details: 'Stream refused by server' }),
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      const channel = new grpc.Channel(`127.0.0.1:${port}`, insecure, {});
      try {
        expect({ grpcVersion, ...(await rawCall(channel)) }).toEqual({
          grpcVersion,
          code: grpc.status.UNAVAILABLE,
          reach: 'sent',
        });
      } finally {
        channel.close();
        server.forceShutdown();
      }
    });

    it("'unknown': a call not shaped as grpc-js's", () => {
      expect(callReach(new FailedCall(grpc.status.UNAVAILABLE, 'x') as unknown as Call)).toBe(
        'unknown',
      );
    });
  });
});
