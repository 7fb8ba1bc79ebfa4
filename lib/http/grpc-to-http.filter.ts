import { status as GrpcStatus } from '@grpc/grpc-js';
import { Catch, HttpException, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { PoolClosedError, PoolNotReadyError, PoolTimeoutError } from '../errors/pool.errors.js';

/**
 * The HTTP status for each gRPC status code, as google.rpc.Code documents it, except that
 * the backend's own failures (UNKNOWN, INTERNAL, DATA_LOSS) are 502: the HTTP app is the
 * gateway and worked, its upstream did not. CANCELLED is 499 (client closed request).
 */
const HTTP_BY_GRPC_STATUS: Readonly<Record<number, number>> = {
  [GrpcStatus.CANCELLED]: 499,
  [GrpcStatus.UNKNOWN]: HttpStatus.BAD_GATEWAY,
  [GrpcStatus.INVALID_ARGUMENT]: HttpStatus.BAD_REQUEST,
  [GrpcStatus.DEADLINE_EXCEEDED]: HttpStatus.GATEWAY_TIMEOUT,
  [GrpcStatus.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [GrpcStatus.ALREADY_EXISTS]: HttpStatus.CONFLICT,
  [GrpcStatus.PERMISSION_DENIED]: HttpStatus.FORBIDDEN,
  [GrpcStatus.RESOURCE_EXHAUSTED]: HttpStatus.TOO_MANY_REQUESTS,
  [GrpcStatus.FAILED_PRECONDITION]: HttpStatus.BAD_REQUEST,
  [GrpcStatus.ABORTED]: HttpStatus.CONFLICT,
  [GrpcStatus.OUT_OF_RANGE]: HttpStatus.BAD_REQUEST,
  [GrpcStatus.UNIMPLEMENTED]: HttpStatus.NOT_IMPLEMENTED,
  [GrpcStatus.INTERNAL]: HttpStatus.BAD_GATEWAY,
  [GrpcStatus.UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [GrpcStatus.DATA_LOSS]: HttpStatus.BAD_GATEWAY,
  [GrpcStatus.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
};

/** The HTTP status a gRPC status code maps to (502 for a code outside the table). */
export function grpcStatusToHttp(code: number): number {
  return HTTP_BY_GRPC_STATUS[code] ?? HttpStatus.BAD_GATEWAY;
}

/**
 * The `HttpException` for what a call through the pool can throw, or `undefined` when the
 * error is neither a gRPC status nor a pool error (leave it to Nest: 500). A gRPC error's
 * `details` become the message; no ready member, a closed pool or a readiness timeout is 503.
 *
 * @example
 * heroes.findOne({ id }).pipe(catchError((error) => throwError(() => grpcToHttpException(error) ?? error)))
 */
export function grpcToHttpException(error: unknown): HttpException | undefined {
  if (
    error instanceof PoolNotReadyError ||
    error instanceof PoolClosedError ||
    error instanceof PoolTimeoutError
  ) {
    return new HttpException(error.message, HttpStatus.SERVICE_UNAVAILABLE, { cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || typeof code !== 'number' || !Number.isInteger(code)) {
    return undefined;
  }
  const details = (error as { details?: unknown }).details;
  return new HttpException(
    typeof details === 'string' && details !== '' ? details : error.message,
    grpcStatusToHttp(code),
    { cause: error },
  );
}

/**
 * An exception filter for HTTP controllers that call through the pool: a gRPC status
 * becomes its HTTP answer (NOT_FOUND → 404, DEADLINE_EXCEEDED → 504, UNAVAILABLE and pool
 * errors → 503, …, see {@link grpcStatusToHttp}); anything else goes to Nest's own handling.
 *
 * @example
 * // app-wide, with Nest's HTTP adapter injected:
 * providers: [{ provide: APP_FILTER, useClass: GrpcToHttpExceptionFilter }]
 * // or per controller: @UseFilters(GrpcToHttpExceptionFilter)
 */
@Catch()
export class GrpcToHttpExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    super.catch(grpcToHttpException(exception) ?? exception, host);
  }
}
