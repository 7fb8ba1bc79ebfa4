import type { PoolService } from 'nestjs-grpc-pool';
import type { FaultProxy, ProxyConnection } from '../support/fault-proxy.js';
import { echoCall } from './calls.js';

/**
 * Which proxy connection each ready member uses, found exactly: one call per member through
 * `getChannel()`, the member whose `callsStarted` went up, the connection whose upstream
 * socket the server saw as the call's peer.
 */
export async function connectionsByMember(
  pool: PoolService,
  proxy: FaultProxy,
): Promise<Map<number, ProxyConnection>> {
  const found = new Map<number, ProxyConnection>();
  const ready = pool.status().ready;
  // Round-robin reaches every member within `ready` picks; other strategies get more tries.
  for (let tries = 0; found.size < ready && tries < ready * 20; tries++) {
    const before = new Map(pool.members().map((member) => [member.id, member.callsStarted]));
    const outcome = await echoCall(pool.getChannel(), { message: 'which' }, { timeoutMs: 2_000 });
    const member = pool
      .members()
      .find((worker) => worker.callsStarted !== (before.get(worker.id) ?? 0));
    if (outcome.ok && member && outcome.peer) {
      found.set(member.id, proxy.connectionOfPeer(outcome.peer));
    }
  }
  if (found.size < ready) {
    throw new Error(`mapped ${found.size} of ${ready} ready members to proxy connections`);
  }
  return found;
}

/** Ids and `readySince` of the ready members, to tell later which ones reconnected. */
export function readyMembers(pool: PoolService): Map<number, string | undefined> {
  return new Map(
    pool
      .members()
      .filter((member) => member.state === 'READY')
      .map((member) => [member.id, member.readySince]),
  );
}
