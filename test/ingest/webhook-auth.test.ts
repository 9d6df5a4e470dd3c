// Signature helpers: the documented openssl recipe and signBody agree; unauthenticated sources are listed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { createSourceAuth, signBody, unauthenticatedSources } from '../../src/ingest/webhook-auth.js';

describe('webhook auth', () => {
  it('signBody equals the openssl recipe in docs/ingest.md', () => {
    const body = '{"id":"t1","name":"Test / Alert","score":0.5,"device":{"ip":"10.0.0.5"}}';
    const secret = 'a-secret-of-enough-length';
    const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-hex'], { input: `1700000000.${body}` }).toString().trim();
    assert.equal(signBody(secret, body, 1700000000), `t=1700000000,v1=${out.split(' ').pop()}`);
  });

  it('lists the sources that allow unauthenticated posts', () => {
    const config = parseConfig({ sources: { zeek: { allowUnauthenticated: true }, darktrace: { secret: 'x'.repeat(16) } } });
    assert.deepEqual(unauthenticatedSources(config), ['zeek']);
  });

  it('accepts a rotated secret listed as a second v1 and refuses a window overrun either way', () => {
    const secret = 'the-current-secret-123';
    const auth = createSourceAuth(parseConfig({ sources: { generic: { secret } } }));
    const body = Buffer.from('{}');
    const now = 1_700_000_000;
    const good = signBody(secret, body, now).split(',')[1];
    const header = `t=${now},v1=${'0'.repeat(64)},${good}`;
    assert.equal(auth.verify('generic', { 'x-sheriff-signature': header }, body, now).ok, true);
    assert.equal(auth.verify('generic', { 'x-sheriff-signature': header }, body, now + 301).ok, false);
    assert.equal(auth.verify('generic', { 'x-sheriff-signature': header }, body, now - 301).ok, false);
    assert.equal(auth.verify('generic', { 'x-sheriff-signature': `t=${now},v1=${'0'.repeat(64)}` }, body, now).ok, false);
  });
});
