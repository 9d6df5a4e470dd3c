// Helpers the connectors share through the error catalogue: Retry-After parsing and vendor text hygiene.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterAt, vendorText } from '../../src/errors.js';

describe('retryAfterAt', () => {
  const now = 1_800_000_000_000;
  it('reads delta seconds, rounding up so a retry is never early', () => {
    assert.equal(retryAfterAt('5', 1000, now), now + 5000);
    assert.equal(retryAfterAt('0.2', 1000, now), now + 200);
    assert.equal(retryAfterAt('0', 1000, now), now);
  });
  it('reads an HTTP date, never earlier than now', () => {
    assert.equal(retryAfterAt(new Date(now + 30_000).toUTCString(), 1000, now), now + 30_000);
    assert.equal(retryAfterAt(new Date(now - 30_000).toUTCString(), 1000, now), now);
  });
  it('falls back when the header is missing or unusable', () => {
    assert.equal(retryAfterAt(null, 60_000, now), now + 60_000);
    assert.equal(retryAfterAt(undefined, 1000, now), now + 1000);
    assert.equal(retryAfterAt('soon', 1000, now), now + 1000);
    assert.equal(retryAfterAt('-3', 1000, now), now + 1000);
  });
});

describe('vendorText', () => {
  it('keeps one printable line of at most 300 characters', () => {
    assert.equal(vendorText('bad\r\nInjected: yes\u0000\u202e'), 'bad  Injected: yes  ');
    assert.equal(vendorText('x'.repeat(1000)).length, 300);
  });
});
