// Crash safety with the iptables connector on a network-namespace lab: workers SIGKILLed mid-stream; ipset vs ledger.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLab, labUnavailableReason, type Lab } from '../helpers/netns.js';
import { REDIS_URL } from '../helpers/redis.js';
import { crashScenario, type Entry } from './crash-scenario.js';
import { deviceFor } from './harness.js';

const skip = labUnavailableReason();

describe('crash safety (iptables connector in a namespace lab)', { skip: skip ?? false }, () => {
  let lab: Lab;
  before(async () => { lab = await createLab({ ipv6: false }); });
  after(async () => { await lab?.destroy(); });

  it('300 alerts with workers killed mid-stream: ipset holds exactly the ledger\'s active actions, all expire, traffic follows', { timeout: 180_000 }, async () => {
    const prefix = `cr${randomBytes(3).toString('hex')}`;
    // Device 0 is the lab's real dev1, so containment is also checked with real traffic.
    const devices = [lab.dev.dev1, ...Array.from({ length: 299 }, (_v, i) => deviceFor('10.77.0.0', i))];
    const readSet = async (): Promise<Entry[]> => {
      const r = await lab.exec('gw', 'ipset', ['list', `${prefix}-ssh4`]);
      if (r.code !== 0) return [];
      // Members: "10.77.2.1,tcp:22 timeout 74 comment "a-…""; one per SSH port, so collapse to (ip, action).
      const seen = new Map<string, Entry>();
      for (const m of r.stdout.matchAll(/^([0-9.]+),tcp:\d+ .*comment "(a-[a-z0-9]+)"/gm)) {
        seen.set(`${m[1]}|${m[2]}`, { ip: m[1] as string, actionId: m[2] as string });
      }
      return [...seen.values()];
    };
    const figures = await crashScenario({
      label: 'crash-ipt',
      redisUrl: REDIS_URL,
      devices,
      connectors: { edge: { type: 'iptables', netns: lab.ns.gw, hook: 'forward', scope: ['10.0.0.0/8'], prefix, ipv6: false } },
      ttlS: 40,
      streamMs: 8_000,
      kills: 3,
      killEveryMs: 2_000,
      readConnector: readSet,
      whileActive: async () => {
        assert.notEqual(await lab.tryConnect('dev1', lab.ext.a, 22), 'connected', 'dev1 cannot open SSH while contained');
        assert.equal(await lab.tryConnect('dev2', lab.ext.a, 22), 'connected', 'dev2 (never alerted on) is untouched');
      },
      afterExpiry: async () => {
        assert.equal(await lab.tryConnect('dev1', lab.ext.a, 22), 'connected', 'dev1 reaches SSH again after expiry');
      },
    });
    console.log(`reliability figures: ${JSON.stringify(figures)}`);
  });
});
