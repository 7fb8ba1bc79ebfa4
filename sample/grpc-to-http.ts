import {
  BadGatewayException,
  BadRequestException,
  GatewayTimeoutException,
  HttpException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { status, type ServiceError } from '@grpc/grpc-js';
import { PoolClosedError, PoolNotReadyError } from 'nestjs-grpc-pool';

/** The gRPC status codes with a natural HTTP meaning; anything else is the backend's fault (502). */
const HTTP_BY_GRPC_STATUS: Partial<Record<status, (message: string) => HttpException>> = {
  [status.NOT_FOUND]: (message) => new NotFoundException(message),
  [status.INVALID_ARGUMENT]: (message) => new BadRequestException(message),
  [status.DEADLINE_EXCEEDED]: (message) => new GatewayTimeoutException(message),
  [status.UNAVAILABLE]: (message) => new ServiceUnavailableException(message),
};

/**
 * Turns what a call through the pool can throw into the HTTP answer a client should see:
 * no ready member (or a closing pool) is 503, a gRPC status maps by meaning, and anything
 * that is not a gRPC error is rethrown untouched (Nest answers 500).
 */
export function toHttpException(error: unknown): unknown {
  if (error instanceof PoolNotReadyError || error instanceof PoolClosedError) {
    return new ServiceUnavailableException(error.message);
  }
  if (!isServiceError(error)) {
    return error;
  }
  const toHttp = HTTP_BY_GRPC_STATUS[error.code];
  return toHttp ? toHttp(error.details) : new BadGatewayException(error.details);
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}
