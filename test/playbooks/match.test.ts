// Matchers: globs, `::` vs ` / `, sources, CIDRs, tags, hostnames, minScore, hasPeer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Playbook } from '../../src/contracts/playbook.js';
import { compileMatcher, compileGlob, normaliseName } from '../../src/playbooks/match.js';
import { alert } from '../helpers/alerts.js';

const matcher = (match: unknown) => compileMatcher(Playbook.parse({ name: 'm', match, respond: [{ action: 'block-ssh-egress' }] }));

describe('name matching', () => {
  it('treats `::` and ` / ` alike, ignoring case and spacing', () => {
    assert.equal(normaliseName('Compromise::SSH Beacon'), normaliseName('Compromise / SSH Beacon'));
    const m = matcher({ name: 'Compromise / SSH Beacon' });
    assert.ok(m(alert({ name: 'Compromise::SSH Beacon' })));
    assert.ok(m(alert({ name: 'compromise /  ssh beacon' })));
    assert.equal(m(alert({ name: 'Compromise / High Frequency SSH Beacon' })), null);
    const old = matcher({ name: 'Compromise::SSH Beacon' });
    assert.ok(old(alert({ name: 'Compromise / SSH Beacon' })));
  });
  it('globs: * and ? only, the rest literal', () => {
    const m = matcher({ name: 'Compromise / High Priority Crypto Currency Mining*' });
    assert.ok(m(alert({ name: 'Compromise / High Priority Crypto Currency Mining [Enhanced Monitoring]' })));
    assert.ok(m(alert({ name: 'Compromise::High Priority Crypto Currency Mining' })));
    assert.equal(m(alert({ name: 'Compliance / Crypto Currency Mining Activity' })), null);
    assert.ok(compileGlob('a?c').test('abc'));
    assert.equal(compileGlob('a.c').test('abc'), false);
    assert.equal(compileGlob('(x|y)').test('x'), false);
    assert.ok(compileGlob('[Enhanced]').test('[enhanced]'));
    assert.ok(compileGlob('a*b*c').test('axxbyyc'));
    assert.equal(compileGlob('a*b*c').test('axxbyy'), false);
    assert.ok(compileGlob('*').test(''));
    assert.equal(compileGlob('?').test(''), false);
  });
  it('stays fast on hostile patterns and long names (no regex backtracking)', () => {
    const g = compileGlob('*a*a*a*a*a*a*a*a*b');
    assert.equal(g.test('a'.repeat(10_000)), false);
    const m = matcher({ name: '*a*a*a*a*a*a*a*a*b' });
    assert.equal(m(alert({ name: 'a'.repeat(512) })), null);
  });
});

describe('other conditions', () => {
  it('source and minScore', () => {
    const m = matcher({ source: ['darktrace', 'zeek'], minScore: 0.8 });
    assert.ok(m(alert({ score: 0.8 })));
    assert.equal(m(alert({ score: 0.79 })), null);
    assert.equal(m(alert({ source: 'suricata', score: 0.9 })), null);
    assert.ok(m(alert({ source: 'zeek', score: 1 })));
  });
  it('device CIDRs (v4, v6, v4-mapped) and refused addresses', () => {
    const m = matcher({ device: { cidrs: ['10.0.0.0/8', 'fd00::/8'] } });
    assert.ok(m(alert({ device: { ip: '10.200.1.1' } })));
    assert.ok(m(alert({ device: { ip: '::ffff:10.0.0.1' } })));
    assert.ok(m(alert({ device: { ip: 'fd12::1' } })));
    assert.equal(m(alert({ device: { ip: '192.168.1.1' } })), null);
    assert.equal(m(alert({ device: { ip: '10.0.0.1; rm -rf /' } })), null);
    assert.equal(m(alert({ device: { ip: 'fe80::1' } })), null);
  });
  it('tags (any of, case-insensitive) and hostnames (globs, case-insensitive)', () => {
    const t = matcher({ device: { tags: ['Server', 'dmz'] } });
    assert.ok(t(alert({ device: { tags: ['laptop', 'DMZ'] } })));
    assert.equal(t(alert({ device: { tags: ['laptop'] } })), null);
    const h = matcher({ device: { hostnames: ['web*.corp.example'] } });
    assert.ok(h(alert({ device: { hostname: 'WEB01.corp.example' } })));
    assert.equal(h(alert({ device: { hostname: 'db01.corp.example' } })), null);
    assert.equal(h(alert()), null);
  });
  it('hasPeer requires a usable peer address (or its absence)', () => {
    const m = matcher({ hasPeer: true });
    assert.ok(m(alert({ peer: { ip: '203.0.113.5', port: 443 } })));
    assert.equal(m(alert({ peer: { hostname: 'pool.example' } })), null);
    assert.equal(m(alert({ peer: { ip: 'not-an-ip' } })), null);
    assert.ok(matcher({ hasPeer: false })(alert()));
  });
  it('reports the conditions met, for the reason sentence', () => {
    const r = matcher({ source: 'darktrace', name: 'Compromise / SSH Beacon', minScore: 0.5 })(alert({ score: 0.6 }));
    assert.deepEqual(r?.conditions, ['source darktrace', 'name "Compromise / SSH Beacon"', 'score 0.6 ≥ 0.5']);
  });
});
