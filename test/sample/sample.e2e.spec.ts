import { credentials, status } from '@grpc/grpc-js';
import { PoolService, type PoolStatus } from 'nestjs-grpc-pool';
import { startSample, type Sample } from '../../sample/bootstrap.js';
import { HEROES } from '../../sample/hero-server.js';
import { HeroClient } from '../../sample/hero.grpc.js';
import { waitFor } from '../support/echo-server.js';

/** One HTTP request to the running sample: its status and parsed JSON body. */
async function get<T = unknown>(
  sample: Sample,
  path: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sample.httpUrl}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

describe('sample app (real HTTP -> Nest -> pool -> grpc-js hero server)', () => {
  let sample: Sample;

  beforeAll(async () => {
    sample = await startSample({ httpPort: 0, grpcPort: 0, logger: false });
    // Bootstrap waits for one connected member; the checks below want all four.
    const pool = sample.app.get(PoolService, { strict: false });
    await waitFor(() => pool.status().ready === 4, '4 ready pool members', 5_000);
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('GET /heroes/1 answers the hero from FindOne', async () => {
    expect(await get(sample, '/heroes/1')).toEqual({
      status: 200,
      body: { id: 1, name: 'John' },
    });
  });

  it('GET /heroes/999 maps gRPC NOT_FOUND to HTTP 404', async () => {
    const { status, body } = await get<{ message: string }>(sample, '/heroes/999');
    expect(status).toBe(404);
    expect(body.message).toBe('no hero with id 999');
  });

  it('GET /heroes/abc is a 400 before any gRPC call', async () => {
    expect((await get(sample, '/heroes/abc')).status).toBe(400);
  });

  it('GET /heroes collects the FindMany stream into an array', async () => {
    expect(await get(sample, '/heroes')).toEqual({ status: 200, body: HEROES });
    expect(await get(sample, '/heroes?name=o')).toEqual({
      status: 200,
      body: [
        { id: 1, name: 'John' },
        { id: 2, name: 'Doe' },
      ],
    });
  });

  it('GET /pool shows four members, and requests spread over all of them', async () => {
    const before = (await get<PoolStatus>(sample, '/pool')).body;
    for (let i = 0; i < 8; i++) {
      expect((await get(sample, `/heroes/${(i % HEROES.length) + 1}`)).status).toBe(200);
    }
    const after = (await get<PoolStatus>(sample, '/pool')).body;

    expect(after).toMatchObject({ name: 'default', size: 4, ready: 4, strategy: 'round-robin' });
    const started = after.members.map(
      (member, i) => member.callsStarted - before.members[i].callsStarted,
    );
    expect(started).toEqual([2, 2, 2, 2]);
    expect(after.inFlight).toBe(0);
  });

  it('GET /health is 200 ok with the pool up', async () => {
    expect(await get(sample, '/health')).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        info: {
          'grpc-pool': expect.objectContaining({
            status: 'up',
            pool: 'default',
            ready: 4,
            size: 4,
          }),
        },
      }),
    });
  });
});

describe('sample shutdown', () => {
  it('close() stops HTTP, closes the pool, then the hero server', async () => {
    const sample = await startSample({ httpPort: 0, grpcPort: 0, logger: false });
    const pool = sample.app.get(PoolService, { strict: false });
    expect((await get(sample, '/heroes/2')).body).toEqual({ id: 2, name: 'Doe' });

    await sample.close();

    expect(pool.status()).toMatchObject({ closed: true, ready: 0, inFlight: 0 });
    await expect(fetch(`${sample.httpUrl}/health`)).rejects.toThrow();
    const direct = new HeroClient(sample.grpcUrl, credentials.createInsecure());
    try {
      await expect(
        new Promise((resolve, reject) =>
          direct.FindOne({ id: 1 }, { deadline: Date.now() + 2_000 }, (error, hero) =>
            error ? reject(error) : resolve(hero),
          ),
        ),
      ).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      direct.close();
    }
  });
});
