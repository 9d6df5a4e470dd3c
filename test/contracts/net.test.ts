// Host address, CIDR and duration parsing: what counts as one device, and what is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseDuration, parseHostIp } from '../../src/contracts/net.js';

describe('parseHostIp', () => {
  it('accepts host addresses, including documentation ranges, and folds v4-mapped v6', () => {
    for (const [input, want] of [['10.0.0.5', '10.0.0.5'], ['203.0.113.7', '203.0.113.7'], ['198.51.100.1', '198.51.100.1'],
      ['2001:db8::1', '2001:db8::1'], ['::ffff:10.1.2.3', '10.1.2.3'], [' 192.168.1.9 ', '192.168.1.9'], ['fd00::abcd', 'fd00::abcd']]) {
      const r = parseHostIp(input as string);
      assert.ok('ip' in r, `${input}: ${JSON.stringify(r)}`);
      assert.equal(r.ip, want);
    }
  });
  it('refuses what is not one host', () => {
    for (const input of ['0.0.0.0', '127.0.0.1', '::1', '::', '224.0.0.1', 'ff02::1', '255.255.255.255', 'fe80::1',
      '10.0.0.0/8', '10.0.0', '010.0.0.1', '1.2.3.4; rm -rf /', 'example.com', '', '１０.0.0.1']) {
      assert.ok('error' in parseHostIp(input), input);
    }
  });
});

describe('parseCidr', () => {
  it('normalises to the network address', () => {
    assert.deepEqual(parseCidr('10.1.2.3/8'), { cidr: '10.0.0.0/8', family: 4 });
    assert.deepEqual(parseCidr('203.0.113.7'), { cidr: '203.0.113.7/32', family: 4 });
    assert.deepEqual(parseCidr('2001:db8::1/32'), { cidr: '2001:db8::/32', family: 6 });
  });
  it('refuses garbage', () => {
    for (const input of ['10.0.0.0/33', 'x/8', '10.0.0.0/8 -j ACCEPT', '=list=evil']) assert.ok('error' in parseCidr(input), input);
  });
});

describe('parseDuration', () => {
  it('reads compound durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
  });
  it('refuses malformed ones', () => {
    for (const input of ['', '10', 'h', '1x', '-1h', '1h ', '0s']) assert.equal(parseDuration(input), null, input);
  });
});
