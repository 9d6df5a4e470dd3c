// The fake router itself: the API word-length encoding at every prefix size, sentence framing, queries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLength, encodeLength, encodeSentence, SentenceReader } from '../fakes/routeros/protocol.js';
import { evalQuery, formatRosDuration, parseRosDuration } from '../fakes/routeros/router.js';

describe('fake routeros: wire codec', () => {
  it('encodes lengths with 1 to 5 bytes at the documented boundaries', () => {
    const cases: [number, number[]][] = [
      [0x00, [0x00]], [0x7f, [0x7f]],
      [0x80, [0x80, 0x80]], [0x3fff, [0xbf, 0xff]],
      [0x4000, [0xc0, 0x40, 0x00]], [0x1fffff, [0xdf, 0xff, 0xff]],
      [0x200000, [0xe0, 0x20, 0x00, 0x00]], [0xfffffff, [0xef, 0xff, 0xff, 0xff]],
      [0x10000000, [0xf0, 0x10, 0x00, 0x00, 0x00]],
    ];
    for (const [len, bytes] of cases) {
      assert.deepEqual([...encodeLength(len)], bytes, `encode 0x${len.toString(16)}`);
      assert.deepEqual(decodeLength(Buffer.from(bytes), 0), { len, size: bytes.length }, `decode 0x${len.toString(16)}`);
    }
    assert.equal(decodeLength(Buffer.from([0xc0, 0x40]), 0), null, 'incomplete prefix waits for more bytes');
    assert.throws(() => decodeLength(Buffer.from([0xf8]), 0), /reserved control byte/);
  });

  it('reassembles sentences split at every byte, with long words', () => {
    const long = 'x'.repeat(20_000);
    const bytes = Buffer.concat([encodeSentence(['/login', '=name=a', `=password=${long}`]), encodeSentence(['/system/identity/print', '.tag=7'])]);
    const reader = new SentenceReader();
    const got: string[][] = [];
    for (let i = 0; i < bytes.length; i += 7) got.push(...reader.push(bytes.subarray(i, i + 7)));
    assert.deepEqual(got, [['/login', '=name=a', `=password=${long}`], ['/system/identity/print', '.tag=7']]);
  });

  it('evaluates query words and ?# operations', () => {
    const row = { list: 'a', address: '10.0.0.1', timeout: '5' };
    assert.equal(evalQuery(row, ['?list=a', '?address=10.0.0.1']), true);
    assert.equal(evalQuery(row, ['?list=b']), false);
    assert.equal(evalQuery(row, ['?list=b', '?list=a', '?#|']), true);
    assert.equal(evalQuery(row, ['?list=a', '?#!']), false);
    assert.equal(evalQuery(row, ['?comment']), false);
    assert.equal(evalQuery(row, ['?-comment']), true);
    assert.equal(evalQuery(row, ['?>timeout=4']), true);
  });

  it('speaks RouterOS durations', () => {
    assert.equal(formatRosDuration(7198), '1h59m58s');
    assert.equal(formatRosDuration(8 * 86400), '1w1d');
    assert.equal(parseRosDuration('1h59m58s'), 7198);
    assert.equal(parseRosDuration('00:10:00'), 600);
    assert.equal(parseRosDuration('1x'), null);
  });
});
