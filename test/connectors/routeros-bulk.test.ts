// Bulk apply through temporary /system/script batches: 2,000 entries, and connections cut mid-batch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newActionId, sampleStep } from '../conformance/connector.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import type { FakeRouterOsServer } from '../fakes/routeros/server.js';
import { connectTo, startFake } from './routeros-setup.js';


function uniqueHosts(count: number, third: number): EnforcementStep[] {
  // 10.<third>.<hi>.<lo> with lo in 1..250 so that every address is a plain host.
  return Array.from({ length: count }, (_, i) => sampleStep('block-ssh-egress', `10.${third}.${Math.floor(i / 250)}.${(i % 250) + 1}`, newActionId()));
}

function assertExactlyOnce(fake: FakeRouterOsServer, all: EnforcementStep[]): void {
  const entries = fake.router.entriesOf('sheriff-block-ssh-egress');
  const byAddress = new Map<string, number>();
  for (const e of entries) byAddress.set(e.address, (byAddress.get(e.address) ?? 0) + 1);
  for (const s of all) {
    assert.equal(byAddress.get(s.device.ip), 1, `${s.device.ip} present exactly once`);
    assert.equal(entries.find((e) => e.address === s.device.ip)?.comment, `sheriff:${s.actionId}`);
  }
  assert.equal(fake.router.scripts.size, 0, 'no temporary script left behind');
}

describe('routeros: applyMany', () => {
  it('applies 2,000 entries in scripted batches of 100', async () => {
    const fake = await startFake();
    const c = connectTo(fake);
    try {
      await c.start();
      const all = uniqueHosts(2000, 60);
      const receipts = await c.applyMany?.(all);
      assert.equal(receipts?.length, 2000);
      assert.deepEqual(receipts?.map((r) => r.actionId), all.map((s) => s.actionId));
      assertExactlyOnce(fake, all);
      assert.equal(fake.commands('/system/script/run').length, 20);
      assert.equal(fake.commands('/ip/firewall/address-list/add').filter((w) => w.includes('=list=sheriff-block-ssh-egress')).length, 0, 'no per-entry adds');
      const listed = new Set((await c.list()).map((r) => r.key));
      assert.ok(all.every((s) => listed.has(`sheriff-block-ssh-egress|${s.device.ip}`)));
      // Applying again (an extend of all of them) changes nothing in number.
      await c.applyMany?.(all.map((s) => ({ ...s, expiresAt: Date.now() + 7_200_000 })));
      assertExactlyOnce(fake, all);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  for (const when of ['before', 'after'] as const) {
    it(`a connection cut ${when} a batch runs is retried, nothing doubled`, async () => {
      const fake = await startFake();
      const c = connectTo(fake, { poolSize: 1 });
      try {
        await c.start();
        const all = uniqueHosts(500, 61);
        fake.dropOn = { command: '/system/script/run', nth: 3, when };
        const receipts = await c.applyMany?.(all);
        assert.equal(receipts?.length, 500);
        assert.equal(fake.dropOn, null, 'the drop happened');
        assert.equal(fake.commands('/system/script/run').length, 6, 'five batches plus the retried one');
        assertExactlyOnce(fake, all);
      } finally {
        await c.close();
        await fake.close();
      }
    });
  }

  it('fills what a failed batch left out one by one', async () => {
    const fake = await startFake();
    const c = connectTo(fake);
    try {
      await c.start();
      const all = uniqueHosts(150, 62);
      // The router loses entries right after a script ran (as if another admin removed them).
      const original = fake.router.execute.bind(fake.router);
      let once = true;
      fake.router.execute = (command, attrs, queries) => {
        const out = original(command, attrs, queries);
        if (command === '/system/script/run' && once) {
          once = false;
          for (const e of fake.router.entriesOf('sheriff-block-ssh-egress').slice(0, 3)) fake.router.entries.delete(e.id);
        }
        return out;
      };
      await c.applyMany?.(all);
      assertExactlyOnce(fake, all);
      assert.equal(fake.commands('/ip/firewall/address-list/add').filter((w) => w.includes('=list=sheriff-block-ssh-egress')).length, 3);
    } finally {
      await c.close();
      await fake.close();
    }
  });
});

