import { POOL_EVENTS, type AutoscaleThrashEvent } from 'nestjs-grpc-pool';
import { Autoscaler } from '../../lib/policies/autoscaler.js';
import { CapturingLogger } from '../reliability/capturing-logger.js';
import { collect } from './events.js';

/** The autoscaler's decisions alone, over a host whose load the test sets (no timers run). */
describe('Autoscaler decisions', () => {
  const options = {
    min: 1,
    max: 4,
    streamsPerMember: 10,
    scaleUpAt: 0.7,
    scaleDownAt: 0.6,
    cooldownMs: 0,
    sampleIntervalMs: 1_000,
    windows: 1,
  };

  function fixture() {
    let size = 2;
    const ready = [{ inFlight: 0 }, { inFlight: 0 }];
    const logger = new CapturingLogger();
    const autoscaler = new Autoscaler(
      'thrashy',
      options,
      {
        get size() {
          return size;
        },
        ready,
        inFlight: () => ready.reduce((sum, member) => sum + member.inFlight, 0),
        grow: () => Promise.resolve((size++, true)),
        shrink: () => Promise.resolve((size--, true)),
      },
      logger,
    );
    const load = (inFlight: number) => ready.forEach((member) => (member.inFlight = inFlight));
    return { autoscaler, logger, load, size: () => size };
  }

  it('warns, naming the settings to change, after 5 resizes in a row in alternating directions', async () => {
    const thrash = collect<AutoscaleThrashEvent>(POOL_EVENTS.autoscaleThrash);
    const { autoscaler, logger, load, size } = fixture();
    for (let i = 0; i < 5; i++) {
      if (i % 2 === 0) {
        load(7); // every member at the mark
        autoscaler.onBusy();
      } else {
        load(0);
        autoscaler.probe(); // one sample of 0 in flight, then close the window
        autoscaler.endWindow();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    thrash.stop();
    expect(size()).toBe(3);
    expect(thrash.events).toHaveLength(1);
    expect(thrash.events[0]).toMatchObject({
      pool: 'thrashy',
      directions: ['scale-up', 'scale-down', 'scale-up', 'scale-down', 'scale-up'],
    });
    const warning = logger.find('warn', 'thrashing');
    expect(warning).toHaveLength(1);
    for (const setting of [
      'scaleDownAt',
      'windows',
      'sampleIntervalMs',
      'cooldownMs',
      'streamsPerMember',
    ]) {
      expect(warning[0].text).toContain(`autoscale.${setting}`);
    }
  });

  it('adds only when the least-loaded ready member is at the mark too', async () => {
    const { autoscaler, size } = fixture();
    const busyOne = [7, 0];
    const ready = (autoscaler as unknown as { host: { ready: { inFlight: number }[] } }).host.ready;
    ready.forEach((member, index) => (member.inFlight = busyOne[index]));
    autoscaler.onBusy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(size()).toBe(2);
    expect(autoscaler.status().lastDecision).toBeNull();
  });
});
