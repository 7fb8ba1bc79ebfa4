import * as grpc from '@grpc/grpc-js';

/** What the pool's recording credentials forward (lib/pool/connection-attempts.ts). */
const FORWARDED = ['connect', 'destroy', 'getCallCredentials', 'waitForReady'];

type Target = Parameters<grpc.ChannelCredentials['_createSecureConnector']>[0];

/** Every method of `object`, own and inherited (short of Object.prototype). */
function methodsOf(object: object): string[] {
  const names = new Set<string>();
  for (let o = object; o !== Object.prototype; o = Object.getPrototypeOf(o) as object) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (
        name !== 'constructor' &&
        typeof (object as Record<string, unknown>)[name] === 'function'
      ) {
        names.add(name);
      }
    }
  }
  return [...names].sort();
}

/**
 * The pool sees every socket grpc-js opens through the connector that a channel's
 * credentials make (grpc-js's `SecureConnector`). The pool's wrapper forwards the methods
 * listed above; if grpc-js adds one, this fails and the wrapper must forward it too.
 */
describe("grpc-js's secure connector, as the pool wraps it", () => {
  const target: Target = { scheme: 'dns', path: '127.0.0.1:1' };

  it.each([
    ['insecure', () => grpc.credentials.createInsecure()],
    ['TLS', () => grpc.credentials.createSsl()],
  ])('%s credentials make a connector with exactly the methods the pool forwards', (_, make) => {
    const connector = make()._createSecureConnector(target, {});
    try {
      expect(methodsOf(connector)).toEqual(FORWARDED);
    } finally {
      connector.destroy();
    }
  });
});
