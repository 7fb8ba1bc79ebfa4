import getPort from 'get-port';

/**
 * A loopback port with nothing listening on it, from `get-port` (the OS picks it; get-port
 * also never hands the same port out twice within 15 s, so two tests asking at once cannot
 * share one).
 */
export function closedPort(): Promise<number> {
  return getPort({ host: '127.0.0.1' });
}
