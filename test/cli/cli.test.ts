// The sheriff command line: serve's config errors, offline tools, and operator commands against a running API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { TOKENS, startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';

function sheriff(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('sheriff CLI, offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serve with a bad config exits non-zero and lists every problem without a stack trace', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'mode: agressive\nlisten: nowhere\nconectors: {}\nconnectors:\n  x: { type: warp-drive }\n');
    const r = await sheriff(['serve', '--config', cfg]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /mode/);
    assert.match(r.err, /listen/);
    assert.match(r.err, /conectors: unknown key/);
    assert.match(r.err, /connectors\.x\.type: unknown connector type "warp-drive"/);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  });

  it('playbooks validate: the shipped set is OK; a broken one lists its problems with file:line and exits 1', async () => {
    const ok = await sheriff(['playbooks', 'validate', 'playbooks']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /playbooks OK/);
    const pb = join(dir, 'broken.yaml');
    writeFileSync(pb, 'name: broken\nmatch: { minScore: 2 }\nrespond:\n  - action: launch-missiles\n');
    const bad = await sheriff(['playbooks', 'validate', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.out + bad.err, /broken\.yaml:\d+/);
    assert.match(bad.out + bad.err, /minScore/);
    assert.match(bad.out + bad.err, /launch-missiles|action/);
  });

  it('actions catalog and connectors list describe what can be enforced and what it needs', async () => {
    const cat = await sheriff(['--json', 'actions', 'catalog']);
    assert.equal(cat.code, 0, cat.err);
    const names = (JSON.parse(cat.out) as Array<{ name: string }>).map((a) => a.name).sort();
    assert.deepEqual(names, ['block-endpoint', 'block-ssh-egress', 'quarantine-device', 'rate-limit-new-ports']);
    const con = await sheriff(['--json', 'connectors', 'list']);
    assert.equal(con.code, 0, con.err);
    const types = (JSON.parse(con.out) as { types: Array<{ type: string; privileges: string }> }).types;
    assert.deepEqual(types.map((t) => t.type).sort(), ['crowdstrike', 'defender', 'iptables', 'kubernetes', 'log', 'routeros', 'sentinelone']);
    assert.ok(types.every((t) => t.privileges.length > 10));
    assert.match(types.find((t) => t.type === 'kubernetes')!.privileges, /rbac/i);
  });

  it('replay prints the decision timeline of a recorded Outlaw incident, deterministically', async () => {
    const a = await sheriff(['replay', 'test/fixtures/outlaw-timeline.ndjson', '--json']);
    const b = await sheriff(['replay', 'test/fixtures/outlaw-timeline.ndjson', '--json']);
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out, b.out);
    const text = await sheriff(['replay', 'test/fixtures/outlaw-timeline.ndjson']);
    assert.match(text.out, /block-ssh-egress/);
    assert.match(text.out, /quarantine-device/);
  });
});

describe('sheriff CLI against a running API', () => {
  let t: TestSheriff;
  let env: Record<string, string>;
  before(async () => {
    t = await startTestSheriff();
    await t.sheriff.app!.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.sheriff.app!.server.address() as AddressInfo).port;
    env = { SHERIFF_URL: `http://127.0.0.1:${port}`, SHERIFF_TOKEN: TOKENS.approver };
  });
  after(async () => { await t.close(); });

  it('lists, shows, approves and reverts; refusals exit non-zero with a one-line reason', async () => {
    const created = await t.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: '10.6.0.1' }, reason: 'cli test', approval: 'required' });
    const id = created.json.id as string;
    const list = await sheriff(['actions', 'list', '--state', 'pending_approval'], env);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(id));
    assert.match(list.out, /ID\s+ACTION\s+DEVICE/);
    const approve = await sheriff(['actions', 'approve', id, '--reason', 'looks bad'], env);
    assert.equal(approve.code, 0, approve.err);
    await waitFor(async () => (await t.api('viewer', 'GET', `/v1/actions/${id}`)).json.state === 'active', 'active');
    const show = await sheriff(['--json', 'actions', 'show', id], env);
    assert.equal(JSON.parse(show.out).state, 'active');
    const again = await sheriff(['actions', 'approve', id, '--reason', 'twice'], env);
    assert.equal(again.code, 1);
    assert.match(again.err, /refused \(409 CONFLICT\)/);
    assert.equal(again.err.trim().split('\n').length, 1);
    const kill = await sheriff(['kill-switch', '--reason', 'approver may not'], env);
    assert.equal(kill.code, 1);
    assert.match(kill.err, /403/);
    const revert = await sheriff(['actions', 'revert', id, '--reason', 'done'], env);
    assert.equal(revert.code, 0, revert.err);
    const mode = await sheriff(['mode', 'get'], env);
    assert.equal(mode.out.trim(), 'active');
    const audit = await sheriff(['audit', 'verify'], env);
    assert.equal(audit.code, 0);
    assert.match(audit.out, /audit chain OK/);
    const noToken = await sheriff(['actions', 'list'], { SHERIFF_URL: env.SHERIFF_URL!, SHERIFF_TOKEN: '' });
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.err, /token/);
  });
});
