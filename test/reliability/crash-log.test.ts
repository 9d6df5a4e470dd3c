// Crash safety with the log connector: api + two workers as processes, 1,000 alerts, workers SIGKILLed mid-stream.
import { describe, it } from 'node:test';
import { REDIS_URL } from '../helpers/redis.js';
import { crashScenario, type Entry } from './crash-scenario.js';
import { deviceFor } from './harness.js';

describe('crash safety (log connector)', () => {
  it('1,000 alerts with workers killed mid-stream: each decided once, each action enforced once, all expire on time', { timeout: 180_000 }, async () => {
    const devices = Array.from({ length: 1000 }, (_v, i) => deviceFor('10.81.0.0', i));
    const figures = await crashScenario({
      label: 'crash-log',
      redisUrl: REDIS_URL,
      devices,
      connectors: { dry: { type: 'log' } },
      ttlS: 45,
      streamMs: 12_000,
      kills: 4,
      killEveryMs: 2_500,
      readConnector: async (run): Promise<Entry[]> => {
        // Log connector keys are action|ip|actionId.
        const keys = await run.redis.hkeys(`${run.prefix}:log-connector:dry`);
        return keys.map((k) => {
          const [, ip, actionId] = k.split('|');
          return { ip: ip as string, actionId: actionId as string };
        });
      },
    });
    console.log(`reliability figures: ${JSON.stringify(figures)}`);
  });
});
