// iptables connector without root: hostile values refused before any exec, error mapping, options, planning and parsing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesConnector, IptablesConnector, IptablesOptions, type Runner } from '../../connectors/iptables/index.js';
import { chainRestoreText } from '../../connectors/iptables/rules.js';
import { entryTimeout, makeNames } from '../../connectors/iptables/sets.js';
import { parseSave, receiptsFromSaved } from '../../connectors/iptables/state.js';
import type { EnforcementStep, Receipt } from '../../src/contracts/action.js';
import { ConnectorError } from '../../src/errors.js';
import { newActionId, sampleStep } from '../conformance/connector.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** A runner that records every call and answers like a healthy, empty ipset/iptables. */
function recordingRunner(answer: (file: string, args: readonly string[]) => { code: number; stdout?: string; stderr?: string } = () => ({ code: 0 })) {
  const calls: { file: string; args: readonly string[]; input: string }[] = [];
  const runner: Runner = async (file, args, input) => {
    calls.push({ file, args, input: input ?? '' });
    const a = answer(file, args);
    return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  };
  return { calls, runner };
}

function connector(runner: Runner, options: Record<string, unknown> = {}) {
  return new IptablesConnector('edge', IptablesOptions.parse(options), { log: silent }, runner);
}

const hostile = [
  '10.0.0.5; rm -rf /', '$(reboot)', '`id`', '10.0.0.5\nflush', '10.0.0.5\r\nadd x 1.2.3.4', '=word=', '=comment=x',
  'a'.repeat(10_000), '10.0.0.5\u0000', '１０.０.０.５', '10.0.0.5 timeout 0', '10.0.0.5,tcp:22', '-j ACCEPT', '0.0.0.0', '127.0.0.1',
];
/** The same without the two that are fine as networks (0.0.0.0/32, 127.0.0.1/32) but never as a device. */
const hostileNet = hostile.filter((h) => h !== '0.0.0.0' && h !== '127.0.0.1');

describe('iptables connector: hostile values', () => {
  it('refuses hostile device IPs before anything is executed', async () => {
    const { calls, runner } = recordingRunner();
    const c = connector(runner);
    for (const ip of hostile) {
      for (const action of c.capabilities) {
        const step = { ...sampleStep(action, '10.0.0.5'), device: { ip } } as EnforcementStep;
        await assert.rejects(c.apply(step), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED' && !e.retryable, `${action} ${JSON.stringify(ip.slice(0, 20))}`);
      }
    }
    assert.equal(calls.length, 0, 'no command ran');
  });

  it('refuses hostile action ids, params and hostnames before anything is executed', async () => {
    const { calls, runner } = recordingRunner();
    const c = connector(runner);
    const bad: unknown[] = [
      ...hostile.map((actionId) => ({ ...sampleStep('block-ssh-egress', '10.0.0.5'), actionId })),
      { ...sampleStep('block-ssh-egress', '10.0.0.5'), actionId: 'a-12345678" \nflush' },
      { ...sampleStep('block-ssh-egress', '10.0.0.5'), device: { ip: '10.0.0.5', hostname: 'h'.repeat(10_000) } },
      { ...sampleStep('block-ssh-egress', '10.0.0.5'), params: { ports: ['22;'] } },
      { ...sampleStep('block-ssh-egress', '10.0.0.5'), params: { ports: [0] } },
      { ...sampleStep('block-ssh-egress', '10.0.0.5'), params: { ports: [22], extra: '$(id)' } },
      ...hostileNet.map((ip) => ({ ...sampleStep('block-endpoint', '10.0.0.5'), params: { ip, port: 443, protocol: 'tcp', scope: 'device' } })),
      { ...sampleStep('block-endpoint', '10.0.0.5'), params: { ip: '203.0.113.7', port: 443, protocol: 'icmp', scope: 'device' } },
      { ...sampleStep('block-endpoint', '10.0.0.5'), params: { ip: '0.0.0.0/0', protocol: 'tcp', scope: 'all' } },
      { ...sampleStep('block-endpoint', '10.0.0.5'), params: { ip: '2001:db8::1', port: 443, protocol: 'tcp', scope: 'device' } },
      { ...sampleStep('rate-limit-new-ports', '10.0.0.5'), params: { perMinute: '10/s', burst: 5 } },
      ...hostileNet.map((a) => ({ ...sampleStep('quarantine-device', '10.0.0.5'), params: { allow: [a] } })),
      { ...sampleStep('quarantine-device', '10.0.0.5'), params: { allow: ['0.0.0.0/0'] } },
      { ...sampleStep('quarantine-device', '10.0.0.5'), params: { allow: ['10.0.0.0/8 -j ACCEPT'] } },
      { ...sampleStep('quarantine-device', '10.0.0.5'), action: 'flush' },
    ];
    for (const step of bad) {
      await assert.rejects(c.apply(step as EnforcementStep), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED', JSON.stringify(step).slice(0, 120));
    }
    assert.equal(calls.length, 0, 'no command ran');
  });

  it('a hostname never reaches a command, even a valid-looking hostile one', async () => {
    const { calls, runner } = recordingRunner();
    const c = connector(runner);
    const marker = 'evil\r\n=name=x;$(id)';
    await c.apply({ ...sampleStep('block-ssh-egress', '10.0.0.5'), device: { ip: '10.0.0.5', hostname: marker } });
    assert.ok(calls.length > 0);
    for (const call of calls) {
      assert.ok(!call.input.includes('evil') && !call.args.some((a) => a.includes('evil')), 'hostname absent from every command');
      assert.ok(!call.input.includes('\r'), 'no CR in any stdin');
    }
  });

  it('a tampered receipt is reverted only by entries read back from the kernel, and a hostile one not at all', async () => {
    const { calls, runner } = recordingRunner();
    const c = connector(runner);
    const base: Receipt = { connector: 'edge', actionId: newActionId(), action: 'block-ssh-egress', key: '', status: 'enforced', detail: '', expiresAt: null, data: {} };
    await c.revert({ ...base, actionId: 'a-1234567890; reboot', key: 'block-ssh-egress|10.0.0.5|x' });
    assert.equal(calls.length, 0);
    await c.revert({ ...base, key: `block-ssh-egress|10.0.0.5;reboot|${base.actionId}`, data: { device: '10.0.0.5;reboot', params: { ports: [22] } } });
    for (const call of calls) assert.ok(!call.input.includes('reboot') && !call.args.some((a) => a.includes('reboot')));
  });

  it('options refuse hostile netns, prefix and binary paths', () => {
    for (const bad of [{ netns: 'gw; reboot' }, { netns: '-gw' }, { prefix: 'Sheriff' }, { prefix: 'x'.repeat(13) }, { prefix: 'a-b' },
      { binaries: { ipset: 'ipset' } }, { binaries: { ipset: '/usr/sbin/ipset --x' } }, { hook: 'prerouting' }, { unknown: 1 }, { maxelem: 10 }]) {
      assert.equal(iptablesConnector.optionsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
    const ok = IptablesOptions.parse({});
    assert.equal(ok.hook, 'forward');
    assert.ok(ok.maxelem >= 262_144);
    assert.deepEqual(ok.internal, ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
  });
});

describe('iptables connector: errors and health', () => {
  it('a missing program says to install iptables and ipset (real execFile, no root needed)', async () => {
    const c = iptablesConnector.create('edge', { binaries: { ipset: '/nonexistent/sheriff-test/ipset' } } as never, { log: silent });
    const h = await c.healthcheck();
    assert.equal(h.ok, false);
    assert.match(h.detail, /install the iptables and ipset packages/);
    await assert.rejects(c.apply(sampleStep('block-ssh-egress', '10.0.0.5')), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_UNAVAILABLE');
  });

  it('EPERM from the kernel says to run as root or grant CAP_NET_ADMIN, not retryable', async () => {
    const { runner } = recordingRunner(() => ({ code: 1, stderr: 'ipset v7.17: Kernel error received: Operation not permitted' }));
    const c = connector(runner);
    assert.match((await c.healthcheck()).detail, /CAP_NET_ADMIN/);
    await assert.rejects(c.apply(sampleStep('block-ssh-egress', '10.0.0.5')), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_AUTH' && !e.retryable);
  });

  it('a vanished netns and a held xtables lock are retryable', async () => {
    for (const [stderr, code] of [['Cannot open network namespace "gw": No such file or directory', 'CONNECTOR_UNAVAILABLE'], ['Another app is currently holding the xtables lock. Stopped waiting after 10s.', 'CONNECTOR_TIMEOUT']]) {
      const { runner } = recordingRunner(() => ({ code: 4, stderr }));
      await assert.rejects(connector(runner).apply(sampleStep('block-ssh-egress', '10.0.0.5')), (e: unknown) => e instanceof ConnectorError && e.code === code && e.retryable);
    }
  });

  it('runs inside the netns through ip netns exec, with stdin batches and the lock wait', async () => {
    const { calls, runner } = recordingRunner();
    const c = connector(runner, { netns: 'lab-gw', lockWait: 7 });
    await c.applyMany([sampleStep('block-ssh-egress', '10.0.0.5'), sampleStep('block-ssh-egress', '10.0.0.6')]);
    assert.ok(calls.every((k) => k.file === 'ip' && k.args[0] === 'netns' && k.args[1] === 'exec' && k.args[2] === 'lab-gw'));
    const restores = calls.filter((k) => k.args.includes('restore') && k.input.includes('add sheriff-ssh4 10.0.0.'));
    assert.equal(restores.length, 1, 'both steps in one ipset restore');
    assert.equal(restores[0]?.input.split('\n').filter((l) => l.startsWith('add sheriff-ssh4')).length, 6);
    assert.ok(calls.filter((k) => k.args.includes('iptables-restore') || k.args.includes('iptables')).every((k) => k.args.includes('-w') && k.args.includes('7')));
  });
});

describe('iptables connector: planning and parsing', () => {
  const names = makeNames('sheriff', 'forward');

  it('kernel timeouts: remaining TTL plus margin, capped, 0 for no expiry', () => {
    assert.equal(entryTimeout(null, 0, 30), 0);
    assert.equal(entryTimeout(10_500, 0, 30), 41);
    assert.equal(entryTimeout(-5000, 0, 0), 1);
    assert.equal(entryTimeout(10 * 365 * 86_400_000, 0, 30), 2_147_483);
  });

  it('the chain leaves internal destinations alone only after quarantine and endpoint rules', () => {
    const text = chainRestoreText(names, 4, [{ kind: 'q', family: 4, member: 'sheriff-q4-0badf00d', data: 'sheriff-qa4-0badf00d' }]);
    const lines = text.split('\n');
    const ret = lines.findIndex((l) => l.includes('sheriff-int4 dst -j RETURN'));
    assert.ok(ret > lines.findIndex((l) => l.includes('sheriff-q4-0badf00d src')));
    assert.ok(ret > lines.findIndex((l) => l.includes('sheriff-bedp4')));
    assert.ok(ret < lines.findIndex((l) => l.includes('sheriff-ssh4 src,dst -j REJECT --reject-with tcp-reset')));
    assert.ok(lines.includes(':SHERIFF-FWD - [0:0]') && !text.includes(':FORWARD'), 'only sheriff\'s chain is declared');
  });

  it('list() recovers keys, action ids and params from ipset save text, ignoring foreign sets and entries', () => {
    const id = newActionId();
    const text = [
      'create sheriff-ssh4 hash:ip,port family inet hashsize 1024 maxelem 1048576 timeout 2147483 comment',
      `add sheriff-ssh4 10.0.0.5,tcp:2222 timeout 100 comment "${id}"`,
      `add sheriff-ssh4 10.0.0.5,tcp:22 timeout 100 comment "${id}"`,
      'add sheriff-ssh4 10.0.0.6,tcp:22 timeout 100 comment "hand made"',
      'create sheriff-bedp6 hash:ip,port,net family inet6 hashsize 1024 maxelem 1048576 timeout 2147483 comment',
      `add sheriff-bedp6 fd00::5,udp:53,2001:db8::/32 timeout 0 comment "${id}"`,
      'create other-ssh4 hash:ip,port family inet',
      `add other-ssh4 10.0.0.7,tcp:22 comment "${id}"`,
    ].join('\n');
    const got = receiptsFromSaved(parseSave(text, 'sheriff'), names, 'edge', 30, 1000);
    assert.deepEqual(got.map((r) => r.key).sort(), [`block-endpoint|fd00::5|${id}`, `block-ssh-egress|10.0.0.5|${id}`]);
    const ssh = got.find((r) => r.action === 'block-ssh-egress');
    assert.deepEqual(ssh?.data.params, { ports: [22, 2222] });
    assert.equal(ssh?.expiresAt, 1000 + 70_000);
    assert.deepEqual(got.find((r) => r.action === 'block-endpoint')?.data.params, { ip: '2001:db8::/32', port: 53, protocol: 'udp', scope: 'device' });
  });
});
