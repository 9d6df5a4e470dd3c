// The iptables connector proven with real packets between lab namespaces: each action, revert, kernel timeout, reconcile.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { iptablesConnector } from '../../connectors/iptables/index.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import type { Connector } from '../../src/contracts/connector.js';
import { newActionId } from '../conformance/connector.js';
import { createLab, labUnavailableReason, type Lab, type LabNode } from '../helpers/netns.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const unavailable = labUnavailableReason();
const hour = () => Date.now() + 3_600_000;

/** Blocked means the connection did not open: a reset (REJECT) or silence (DROP). */
const blocked = (r: string) => r === 'refused' || r === 'timeout';

describe('iptables connector with real traffic', { skip: unavailable ?? false }, () => {
  let lab: Lab;
  let c: Connector;
  let prefix: string;
  const make = (extra: Record<string, unknown> = {}) => iptablesConnector.create('edge', iptablesConnector.optionsSchema.parse({ netns: lab.ns.gw, prefix, ...extra }), { log: silent });
  const reach = (node: LabNode, ip: string, port: number) => lab.tryConnect(node, ip, port, 1200);
  const gw = async (file: string, args: string[]) => {
    const r = await lab.exec('gw', file, args);
    assert.equal(r.code, 0, `${file} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const otherRule = ['FORWARD', '-s', '10.77.1.99/32', '-m', 'comment', '--comment', 'someone-else', '-j', 'ACCEPT'];

  before(async () => {
    lab = await createLab({ ipv6: true });
    prefix = `t${randomBytes(3).toString('hex')}`;
    await gw('iptables', ['-w', '-A', ...otherRule]); // someone else's rule, present before sheriff starts
    c = make();
    await c.start();
    await c.start();
  });
  after(async () => {
    await c?.close();
    await lab?.destroy();
  });

  it('baseline: every device reaches every external listener', async () => {
    for (const node of ['dev1', 'dev2'] as const) for (const port of [22, 443, 2222]) assert.equal(await reach(node, lab.ext.a, port), 'connected');
  });

  it('start() twice leaves one jump and one chain; someone else\'s FORWARD rule is kept', async () => {
    const fwd = await gw('iptables', ['-w', '-S', 'FORWARD']);
    assert.equal(fwd.split('\n').filter((l) => l.includes(`-j ${prefix.toUpperCase()}-FWD`)).length, 1);
    assert.match(fwd, /someone-else/);
    if (lab.ipv6) assert.equal((await gw('ip6tables', ['-w', '-S', 'FORWARD'])).split('\n').filter((l) => l.includes(`-j ${prefix.toUpperCase()}-FWD`)).length, 1);
    assert.equal((await gw('iptables-save', [])).split('\n').filter((l) => l === `:${prefix.toUpperCase()}-FWD - [0:0]`).length, 1);
  });

  it('block-ssh-egress: that device gets resets on 22/2222/2022, still reaches 443; the other device still reaches 22', async () => {
    const step: EnforcementStep = { actionId: newActionId(), action: 'block-ssh-egress', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { ports: [22, 2222, 2022] } };
    const r = await c.apply(step);
    try {
      for (const port of [22, 2222, 2022]) assert.equal(await reach('dev1', lab.ext.a, port), 'refused', `dev1 → :${port}`);
      assert.equal(await reach('dev1', lab.ext.a, 443), 'connected');
      assert.equal(await reach('dev2', lab.ext.a, 22), 'connected');
    } finally {
      await c.revert(r);
    }
    for (const port of [22, 2222, 2022]) assert.equal(await reach('dev1', lab.ext.a, port), 'connected', `after revert :${port}`);
  });

  it('block-endpoint: only that ip:port for that device; scope all for every device; without port the whole ip', async () => {
    const one: EnforcementStep = { actionId: newActionId(), action: 'block-endpoint', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { ip: `${lab.ext.c}/32`, port: 443, protocol: 'tcp', scope: 'device' } };
    const all: EnforcementStep = { actionId: newActionId(), action: 'block-endpoint', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { ip: lab.ext.d, port: 80, protocol: 'tcp', scope: 'all' } };
    const host: EnforcementStep = { actionId: newActionId(), action: 'block-endpoint', device: { ip: lab.dev.dev2 }, expiresAt: hour(), params: { ip: lab.ext.b, protocol: 'tcp', scope: 'device' } };
    const receipts = await c.applyMany!([one, all, host]);
    try {
      assert.ok(blocked(await reach('dev1', lab.ext.c, 443)), 'dev1 → c:443 blocked');
      assert.equal(await reach('dev1', lab.ext.c, 80), 'connected', 'same ip, other port');
      assert.equal(await reach('dev1', lab.ext.d, 443), 'connected', 'other ip, same port');
      assert.equal(await reach('dev2', lab.ext.c, 443), 'connected', 'other device');
      for (const node of ['dev1', 'dev2'] as const) assert.ok(blocked(await reach(node, lab.ext.d, 80)), `${node} → d:80 blocked (scope all)`);
      for (const port of [22, 443]) assert.ok(blocked(await reach('dev2', lab.ext.b, port)), `dev2 → b:${port} blocked (no port)`);
      assert.equal(await reach('dev2', lab.ext.a, 22), 'connected', 'dev2 → a:22 unaffected');
      assert.equal(await reach('dev1', lab.ext.b, 22), 'connected', 'dev1 → b:22 unaffected');
    } finally {
      for (const r of receipts) await c.revert(r);
    }
    assert.equal(await reach('dev1', lab.ext.c, 443), 'connected');
    assert.equal(await reach('dev2', lab.ext.d, 80), 'connected');
    assert.equal(await reach('dev2', lab.ext.b, 443), 'connected');
  });

  it('rate-limit-new-ports: new connections over the limit fail, an established one keeps working, the neighbour is free', async () => {
    const held = await lab.holdConnection('dev1', lab.ext.a, 443);
    const step: EnforcementStep = { actionId: newActionId(), action: 'rate-limit-new-ports', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { perMinute: 1, burst: 2 } };
    const r = await c.apply(step);
    try {
      const results: string[] = [];
      for (const port of [80, 443, 2022, 2222]) results.push(await reach('dev1', lab.ext.c, port));
      assert.deepEqual(results.slice(0, 2), ['connected', 'connected'], 'the burst goes through');
      assert.ok(results.slice(2).every((x) => x === 'timeout'), `over the limit: ${results.join(', ')}`);
      assert.equal(await held.echo(), 'ok', 'established connection untouched');
      for (const port of [80, 443, 2022, 2222]) assert.equal(await reach('dev2', lab.ext.c, port), 'connected', 'dev2 unaffected');
    } finally {
      await c.revert(r);
      await held.close();
    }
    assert.equal(await reach('dev1', lab.ext.c, 2222), 'connected');
  });

  it('quarantine-device: only the allow CIDR is reachable, established traffic is cut, the neighbour is unaffected', async () => {
    const held = await lab.holdConnection('dev1', lab.ext.c, 80);
    const step: EnforcementStep = { actionId: newActionId(), action: 'quarantine-device', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { allow: ['198.51.100.0/24'] } };
    const r = await c.apply(step);
    try {
      assert.equal(await reach('dev1', lab.ext.a, 443), 'connected', 'allowed network');
      assert.equal(await reach('dev1', lab.ext.c, 443), 'timeout', 'everything else dropped');
      assert.equal(await held.echo(), 'timeout', 'an established connection outside the allow list stops');
      assert.equal(await reach('dev2', lab.ext.c, 443), 'connected');
    } finally {
      await c.revert(r);
      await held.close();
    }
    assert.equal(await reach('dev1', lab.ext.c, 443), 'connected');
  });

  it('the kernel lifts an entry on time with no sheriff process involved', async () => {
    const short = make({ timeoutMargin: 0 });
    const step: EnforcementStep = { actionId: newActionId(), action: 'block-ssh-egress', device: { ip: lab.dev.dev1 }, expiresAt: Date.now() + 2000, params: { ports: [22] } };
    await short.apply(step);
    await short.close();
    assert.equal(await reach('dev1', lab.ext.a, 22), 'refused');
    let last = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      last = await reach('dev1', lab.ext.a, 22);
      if (last === 'connected') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(last, 'connected', 'the entry timed out in the kernel');
    assert.ok(!(await c.list()).some((x) => x.actionId === step.actionId));
  });

  it('after someone flushes a set, list() shows the entry missing and a re-apply blocks again (reconcile)', async () => {
    const step: EnforcementStep = { actionId: newActionId(), action: 'block-ssh-egress', device: { ip: lab.dev.dev1 }, expiresAt: hour(), params: { ports: [22] } };
    const r = await c.apply(step);
    try {
      assert.ok((await c.list()).some((x) => x.key === r.key && x.actionId === step.actionId));
      await gw('ipset', ['flush', `${prefix}-ssh4`]);
      assert.ok(!(await c.list()).some((x) => x.key === r.key));
      assert.equal(await c.verify(r), false);
      assert.equal(await reach('dev1', lab.ext.a, 22), 'connected');
      const again = await c.apply(step);
      assert.equal(again.key, r.key);
      assert.equal(await reach('dev1', lab.ext.a, 22), 'refused');
    } finally {
      await c.revert(r);
    }
  });

  it('IPv6: block-ssh-egress on the v6 lab', async (t) => {
    if (!lab.ipv6) { t.skip('the lab has no IPv6 here'); return; }
    const step: EnforcementStep = { actionId: newActionId(), action: 'block-ssh-egress', device: { ip: lab.dev.dev1v6 }, expiresAt: hour(), params: { ports: [22, 2222, 2022] } };
    const r = await c.apply(step);
    try {
      assert.equal(await reach('dev1', lab.ext.a6, 22), 'refused');
      assert.equal(await reach('dev1', lab.ext.a6, 443), 'connected');
      assert.equal(await reach('dev2', lab.ext.a6, 22), 'connected');
      assert.equal(await reach('dev1', lab.ext.a, 22), 'connected', 'the v4 address of the same device is another entry');
    } finally {
      await c.revert(r);
    }
    assert.equal(await reach('dev1', lab.ext.a6, 22), 'connected');
  });

  it('hook output: a connector inside the device namespace contains that host itself', async () => {
    const host = iptablesConnector.create('self', iptablesConnector.optionsSchema.parse({ netns: lab.ns.dev2, hook: 'output', prefix }), { log: silent });
    await host.start();
    const step: EnforcementStep = { actionId: newActionId(), action: 'block-ssh-egress', device: { ip: lab.dev.dev2 }, expiresAt: hour(), params: { ports: [22] } };
    const r = await host.apply(step);
    try {
      assert.equal(await reach('dev2', lab.ext.a, 22), 'refused');
      assert.equal(await reach('dev2', lab.ext.a, 443), 'connected');
      assert.match((await lab.exec('dev2', 'iptables', ['-w', '-S', 'OUTPUT'])).stdout, new RegExp(`-j ${prefix.toUpperCase()}-HOST`));
    } finally {
      await host.revert(r);
      await host.close();
    }
    assert.equal(await reach('dev2', lab.ext.a, 22), 'connected');
  });

  it('someone else\'s FORWARD rule survived start, apply and revert', async () => {
    assert.equal((await lab.exec('gw', 'iptables', ['-w', '-C', ...otherRule])).code, 0);
  });
});
