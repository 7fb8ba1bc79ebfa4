import * as grpc from '@grpc/grpc-js';
import {
  HealthImplementation,
  service as healthService,
  type ServingStatus,
} from 'grpc-health-check';

export { HealthImplementation };

/**
 * A `grpc.health.v1.Health` service with `Check` only (`Watch` answers UNIMPLEMENTED), as
 * some servers have: the pool must fall back to polling. `status` is read on every Check.
 */
export function checkOnlyHealth(status: () => ServingStatus | undefined) {
  return (server: grpc.Server): void =>
    server.addService(healthService, {
      check: (
        _call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const now = status();
        callback(
          now === undefined ? { code: grpc.status.NOT_FOUND, details: 'unknown service' } : null,
          now === undefined ? undefined : { status: now },
        );
      },
      watch: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'no Watch here' }),
    });
}

/** A health service that never answers, Check or Watch: every probe times out. */
export function hangingHealth(server: grpc.Server): void {
  server.addService(healthService, {
    check: () => {},
    watch: () => {},
  });
}
