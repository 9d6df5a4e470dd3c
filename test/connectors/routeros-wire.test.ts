// What reaches the RouterOS wire: the !empty reply, hostile values refused before the socket, TLS (api-ssl).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newActionId, sampleStep } from '../conformance/connector.js';
import type { EnforcementStep, Receipt } from '../../src/contracts/action.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { sentence } from '../../connectors/routeros/client.js';
import { connectTo, startFake } from './routeros-setup.js';

const run = promisify(execFile);

describe('routeros: !empty (RouterOS >= 7.18)', () => {
  it('an empty print answered with !empty resolves to no rows through the patched library', async () => {
    const fake = await startFake({ emptyReply: true });
    const c = connectTo(fake);
    try {
      assert.deepEqual(await c.list(), []);
      assert.ok(fake.commands('/ip/firewall/filter/print').length >= 1);
      const r = await c.apply(sampleStep('block-ssh-egress', '10.30.0.5'));
      assert.equal(await c.verify(r), true);
      await c.revert(r);
      assert.equal(await c.verify(r), false, 'the print that finds nothing gets !empty and still answers');
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('the unpatched library dies on !empty (so the patch matters)', async () => {
    const fake = await startFake({ emptyReply: true });
    try {
      const script = `
        const { RouterOSAPI } = require('node-routeros');
        const api = new RouterOSAPI({ host: '127.0.0.1', port: ${fake.port}, user: 'sheriff', password: 'sheriff', timeout: 5 });
        api.connect().then(() => api.write('/ip/firewall/address-list/print', ['?list=nothing-here']))
          .then(() => { console.log('RESOLVED'); process.exit(0); }, (e) => { console.log('REJECTED', e.message); process.exit(0); });
        setTimeout(() => { console.log('HUNG'); process.exit(0); }, 4000);`;
      const res = await run(process.execPath, ['-e', script], { cwd: process.cwd(), timeout: 10_000 }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
      assert.notEqual(res.code, 0, `unpatched process should crash, got: ${res.out}`);
      assert.match(res.out, /UNKNOWNREPLY|unknown reply: !empty/i);
    } finally {
      await fake.close();
    }
  });
});

const hostile = [
  '10.0.0.5\r\n/system/reboot',
  '10.0.0.5 =address=1.2.3.4',
  '=comment=x',
  '10.0.0.5;/system reset-configuration',
  '$(reboot)',
  '10.0.0.5\u0000',
  '1'.repeat(10_000),
  '１０.０.０.５',
  '10.0.0.5\u202e',
];
const markers = ['/system/reboot', '=address=1.2.3.4', '=comment=x', 'reset-configuration', '$(reboot)', '\u0000', '1111111111', '１', '\u202e'];

describe('routeros: hostile values never reach the wire', () => {
  it('refuses hostile ips, action ids, endpoints and allow lists before sending anything', async () => {
    const fake = await startFake();
    const c = connectTo(fake);
    try {
      await c.start();
      const before = fake.log.length;
      const steps: EnforcementStep[] = [];
      for (const h of hostile) {
        steps.push({ ...sampleStep('block-ssh-egress', '10.30.1.1'), device: { ip: h } });
        steps.push({ ...sampleStep('block-ssh-egress', '10.30.1.1'), actionId: `a-12345678${h}` });
        steps.push({ ...sampleStep('block-endpoint', '10.30.1.1'), params: { ip: h, protocol: 'tcp', scope: 'device' } } as EnforcementStep);
        steps.push({ ...sampleStep('quarantine-device', '10.30.1.1'), params: { allow: [h] } } as EnforcementStep);
        steps.push({ ...sampleStep('block-ssh-egress', '10.30.1.1'), params: { ports: [22, h as unknown as number] } } as EnforcementStep);
      }
      for (const step of steps) {
        await assert.rejects(c.apply(step), (err: unknown) => err instanceof ConnectorError && err.code === 'VALIDATION' && !err.retryable);
      }
      await assert.rejects(c.applyMany?.(steps) ?? Promise.reject(new Error('no applyMany')), (err: unknown) => err instanceof ConnectorError && err.code === 'VALIDATION');
      assert.equal(fake.log.length, before, 'not one sentence was sent for a refused step');

      // Receipts come back from the ledger: a forged one is ignored before it becomes a word.
      const good = await c.apply(sampleStep('block-ssh-egress', '10.30.1.2'));
      const sentBefore = fake.log.length;
      for (const h of hostile) {
        const forged: Receipt[] = [
          { ...good, key: `sheriff-block-ssh-egress|${h}` },
          { ...good, key: `${h}|10.30.1.2` },
          { ...good, key: `sheriff-block-ssh-egress|10.30.1.2|${h}` },
          { ...good, actionId: h },
        ];
        for (const r of forged) {
          await c.revert(r);
          assert.equal(await c.verify(r), false);
        }
      }
      assert.equal(fake.log.length, sentBefore);
      assert.equal(await c.verify(good), true, 'the real entry is untouched');

      // Alert text in the hostname is data: the step is enforced, the hostname never becomes a word.
      for (const h of hostile.slice(0, 6)) {
        const r = await c.apply({ ...sampleStep('quarantine-device', '10.30.1.3', newActionId()), device: { ip: '10.30.1.3', hostname: h.slice(0, 200) } });
        assert.equal(await c.verify(r), true);
      }
      const wire = fake.wireText();
      for (const m of markers) assert.ok(!wire.includes(m), `${JSON.stringify(m)} reached the wire`);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('an IPv6 device is not this connector\'s (IPv4 firewall only)', async () => {
    const fake = await startFake();
    const c = connectTo(fake);
    try {
      await assert.rejects(c.apply(sampleStep('block-ssh-egress', 'fd12:3456::5')), (err: unknown) => err instanceof NotResponsibleError);
      assert.equal(fake.log.length, 0);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('the sentence builder refuses unknown commands and tainted words', () => {
    assert.throws(() => sentence('/system/reboot'));
    assert.throws(() => sentence('/ip/firewall/address-list/add', { list: 'x=y' }));
    assert.throws(() => sentence('/ip/firewall/address-list/add', { 'list=x': 'y' }));
    assert.throws(() => sentence('/ip/firewall/address-list/print', {}, { comment: 'a\r\nb' }));
    assert.throws(() => sentence('/system/script/add', { source: ':do { /system reset-configuration }; $x' }));
    assert.deepEqual(sentence('/ip/firewall/address-list/print', { '.proplist': '.id,address' }, { list: 'sheriff-x' }), ['=.proplist=.id,address', '?list=sheriff-x']);
  });
});

describe('routeros: TLS (api-ssl)', () => {
  it('connects with the router certificate as CA, refuses an untrusted one, and tlsInsecure accepts it', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sheriff-routeros-tls-'));
    try {
      try {
        await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=router.test',
          '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { timeout: 30_000 });
      } catch {
        t.skip('openssl is not installed: TLS test skipped');
        return;
      }
      const key = await readFile(join(dir, 'key.pem'));
      const cert = await readFile(join(dir, 'cert.pem'), 'utf8');
      const fake = await startFake({ tls: { key, cert } });
      const trusted = connectTo(fake, { tls: true, ca: cert });
      const untrusted = connectTo(fake, { tls: true });
      const insecure = connectTo(fake, { tls: true, tlsInsecure: true });
      try {
        const r = await trusted.apply(sampleStep('block-ssh-egress', '10.30.2.1'));
        assert.equal(await trusted.verify(r), true);
        await assert.rejects(untrusted.apply(sampleStep('block-ssh-egress', '10.30.2.2')), (err: unknown) =>
          err instanceof ConnectorError && err.code === 'CONNECTOR_AUTH' && !err.retryable && /TLS: the certificate/.test(err.message));
        assert.equal((await insecure.healthcheck()).ok, true);
      } finally {
        await Promise.all([trusted.close(), untrusted.close(), insecure.close()]);
        await fake.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
