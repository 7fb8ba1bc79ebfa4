import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** The tests' echo proto (unary `Echo.Unary` with `delay_ms`), shared so there is one copy. */
export const ECHO_PROTO = fileURLToPath(new URL('../../test/fixtures/echo.proto', import.meta.url));

/** Package name of {@link ECHO_PROTO}, for Nest's `package` option. */
export const ECHO_PACKAGE = 'echo';

const definition = protoLoader.loadSync(ECHO_PROTO, { keepCase: false, longs: String });

/** The grpc-js client constructor of `echo.Echo`, as `loadPackageDefinition` makes it. */
export const EchoClient = grpc.loadPackageDefinition(definition).echo.Echo;
