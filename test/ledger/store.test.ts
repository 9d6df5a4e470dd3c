// Ledger listing: newest first, cursor pages that neither repeat nor skip, even with many records in one millisecond.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionRecord, useLedger } from '../helpers/ledger.js';

const record = (ip: string, createdAt: string) => actionRecord(ip, { createdAt });

describe('ledger list', () => {
  const t = useLedger('ledger');

  it('pages through 250 records created in the same millisecond, and new records do not shift the pages', async () => {
    const at = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 250; i++) await t.ledger.create(record(`10.8.${Math.floor(i / 200)}.${(i % 200) + 1}`, at), { auto: false });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.ledger.list({ limit: 60, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next ?? undefined;
      pages++;
      // Someone adds a newer record between pages: it must not push older ones onto the next page twice.
      await t.ledger.create(record(`10.9.0.${pages}`, new Date().toISOString()), { auto: false });
    } while (cursor);
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250, 'no record twice');
  });

  it('refuses a malformed cursor', async () => {
    await assert.rejects(t.ledger.list({ limit: 10, cursor: 'x; DROP' }), /invalid cursor/);
  });

  it('a second live action with the same device, action and params is refused (the caller extends instead)', async () => {
    const a = record('10.8.9.9', new Date().toISOString());
    const b = { ...record('10.8.9.9', new Date().toISOString()) };
    assert.deepEqual(await t.ledger.create(a, { auto: true }), { created: true, id: a.id });
    assert.deepEqual(await t.ledger.create(b, { auto: true }), { created: false, id: a.id });
    await t.ledger.update(a.id, (r) => ({ ...r, state: 'reverting' }));
    await t.ledger.update(a.id, (r) => ({ ...r, state: 'reverted' }));
    assert.deepEqual(await t.ledger.create(b, { auto: true }), { created: true, id: b.id }, 'free again once the first ended');
  });
});
