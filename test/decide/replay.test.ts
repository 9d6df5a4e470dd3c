// Replay of a recorded Outlaw timeline: decisions in order, escalation, dedupe, protected, uncovered, expiry; CLI paths.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runReplay, type ReplayEvent } from '../../src/cli/replay.js';
import { validatePlaybooks } from '../../src/cli/playbooks.js';
import { actionNames } from '../../src/contracts/action.js';
import { NormalisedAlert } from '../../src/contracts/alert.js';

const here = (p: string) => new URL(p, import.meta.url).pathname;
const FIXTURE = here('../fixtures/outlaw-timeline.ndjson');
const CONFIG = here('../fixtures/replay-sheriff.yaml');
const PLAYBOOKS = here('../../playbooks');
const dir = mkdtempSync(join(tmpdir(), 'sheriff-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function events(file = FIXTURE, extra: Parameters<typeof runReplay>[1] = {}): Promise<ReplayEvent[]> {
  const r = await runReplay(file, { config: CONFIG, playbooks: PLAYBOOKS, json: true, ...extra });
  assert.equal(r.code, 0, r.output);
  return (JSON.parse(r.output) as { events: ReplayEvent[] }).events;
}

/** One compact line per decision/expiry, in timeline order. */
function digest(evs: ReplayEvent[]): string[] {
  return evs.flatMap((e) => {
    if (e.kind === 'decision') return [`${e.at.slice(11, 19)} ${e.outcome} ${e.actionId ?? '-'} ${e.action} ${e.target.ip}${e.escalation ? ' esc' : ''}`];
    if (e.kind === 'expire') return [`${e.at.slice(11, 19)} expire ${e.actionId}`];
    if (e.kind === 'alert' && e.duplicate) return [`${e.at.slice(11, 19)} duplicate ${e.alert.id}`];
    return [];
  });
}

describe('replay of the Outlaw timeline', () => {
  it('decides in order: SSH block, repeat-offender quarantine, mining pool, uncommon port, rate limit, escalation, expiry', async () => {
    assert.deepEqual(digest(await events()), [
      '10:01:05 enforce a-replay0001 block-ssh-egress 10.0.5.17',
      '10:01:05 pending_approval a-replay0002 quarantine-device 10.0.5.17',
      '10:03:30 enforce a-replay0003 block-endpoint 10.0.5.17',
      '10:03:30 extend a-replay0002 quarantine-device 10.0.5.17',
      '10:04:00 extend a-replay0003 block-endpoint 10.0.5.17',
      '10:04:00 extend a-replay0002 quarantine-device 10.0.5.17',
      '10:06:12 pending_approval a-replay0004 block-endpoint 10.0.5.17',
      '10:06:12 extend a-replay0002 quarantine-device 10.0.5.17',
      '10:15:00 enforce a-replay0005 rate-limit-new-ports 10.0.5.17',
      '10:15:00 extend a-replay0002 quarantine-device 10.0.5.17',
      '10:20:00 extend a-replay0001 block-ssh-egress 10.0.5.17',
      '10:20:00 extend a-replay0002 quarantine-device 10.0.5.17 esc',
      '10:20:00 duplicate darktrace-7c41e0b2a9d3000000000008',
      '10:22:00 protected - block-ssh-egress 10.0.0.1',
      '10:25:00 uncovered - block-ssh-egress 192.168.50.4',
      '11:01:05 expire a-replay0002',
      '11:06:12 expire a-replay0004',
      '11:15:00 expire a-replay0005',
      '12:20:00 expire a-replay0001',
      '12:30:00 enforce a-replay0006 block-ssh-egress 10.0.5.17',
      '12:30:00 pending_approval a-replay0007 quarantine-device 10.0.5.17',
      '13:30:00 expire a-replay0007',
      '14:30:00 expire a-replay0006',
      '16:04:00 expire a-replay0003',
    ]);
  });
  it('explains each decision: params, connectors, expiry, why', async () => {
    const evs = await events();
    const pool = evs.find((e) => e.kind === 'decision' && e.actionId === 'a-replay0003' && e.outcome === 'enforce');
    assert.ok(pool?.kind === 'decision');
    assert.deepEqual(pool.params, { protocol: 'tcp', scope: 'device', ip: '203.0.113.77/32', port: 3333 });
    assert.deepEqual(pool.connectors, ['lan']);
    assert.equal(pool.expiresAt, '2026-03-01T16:03:30.000Z');
    assert.match(pool.reason, /outlaw-crypto-mining.*Automatic because score 0.86 ≥ autoMinScore 0.8/);
    const esc = evs.find((e) => e.kind === 'decision' && e.escalation);
    assert.match(esc?.kind === 'decision' ? esc.reason : '', /Escalation: score 0.93 ≥ 0.9; the device is already contained/);
    const text = (await runReplay(FIXTURE, { config: CONFIG, playbooks: PLAYBOOKS })).output;
    assert.match(text, /→ ENFORCE a-replay0001 block-ssh-egress \{"ports":\[22,2022,2222\]\} on 10\.0\.5\.17 via lan \(log\); expires 2026-03-01T12:01:05\.000Z/);
    assert.match(text, /EXPIRE a-replay0001 block-ssh-egress on 10\.0\.5\.17: TTL ran out/);
  });
  it('is deterministic', async () => {
    const a = await runReplay(FIXTURE, { config: CONFIG, playbooks: PLAYBOOKS, json: true });
    const b = await runReplay(FIXTURE, { config: CONFIG, playbooks: PLAYBOOKS, json: true });
    assert.equal(a.output, b.output);
  });
});

describe('replay inputs', () => {
  it('refuses bad lines by number and still replays the rest (exit 1)', async () => {
    const f = join(dir, 'mixed.ndjson');
    const good = { id: 'g-1', source: 'darktrace', name: 'Compromise / SSH Beacon', score: 0.7, detectedAt: '2026-03-01T10:00:00Z', receivedAt: '2026-03-01T10:00:00Z', device: { ip: '10.0.5.17', tags: [] } };
    writeFileSync(f, `not json\n${JSON.stringify({ ...good, id: 'BAD id; rm' })}\n\n${JSON.stringify(good)}\n`);
    const r = await runReplay(f, { config: CONFIG, playbooks: PLAYBOOKS });
    assert.equal(r.code, 1);
    assert.match(r.output, /^line 1: refused: not JSON$/m);
    assert.match(r.output, /^line 2: refused: not a normalised alert: id:/m);
    assert.match(r.output, /ENFORCE a-replay0001 block-ssh-egress/);
  });
  it('--source runs the detector payloads through the supplied normaliser', async () => {
    const f = join(dir, 'raw.ndjson');
    writeFileSync(f, `${JSON.stringify({ model: 'Compromise::SSH Beacon', ip: '10.0.5.17', t: '2026-03-01T10:00:00Z' })}\n`);
    const normalise = (source: string, p: unknown): NormalisedAlert[] => {
      const x = p as { model: string; ip: string; t: string };
      return [NormalisedAlert.parse({ id: 'n-1', source, name: x.model, score: 0.9, detectedAt: x.t, receivedAt: x.t, device: { ip: x.ip, tags: [] }, raw: p })];
    };
    const evs = await events(f, { source: 'darktrace', normalise });
    assert.deepEqual(digest(evs).slice(0, 1), ['10:00:00 enforce a-replay0001 block-ssh-egress 10.0.5.17']);
    const none = await runReplay(f, { config: CONFIG, playbooks: PLAYBOOKS, source: 'darktrace' });
    assert.match(none.output, /line 1: refused: no normaliser for --source darktrace/);
    const bad = await runReplay(f, { config: CONFIG, playbooks: PLAYBOOKS, source: 'splunk; rm -rf' });
    assert.equal(bad.code, 2);
  });
  it('exit 2 with the problems when the playbooks are invalid', async () => {
    const pbDir = mkdtempSync(join(dir, 'pb-'));
    writeFileSync(join(pbDir, 'x.yaml'), 'name: x\nmatch: { name: y }\nrespond: [{ action: nuke-it }]\n');
    const r = await runReplay(FIXTURE, { config: CONFIG, playbooks: pbDir });
    assert.equal(r.code, 2);
    assert.match(r.output, /x\.yaml:3: playbook "x": respond\[0\]\.action/);
  });
});

describe('sheriff playbooks validate', () => {
  const conns = [{ name: 'dry', type: 'log', capabilities: actionNames }];
  it('one line for good playbooks', () => {
    assert.deepEqual(validatePlaybooks(PLAYBOOKS, conns), { code: 0, output: '11 playbooks OK\n' });
  });
  it('exit 1 listing every problem', () => {
    const pbDir = mkdtempSync(join(dir, 'v-'));
    writeFileSync(join(pbDir, 'a.yaml'), 'name: a\nmatch: { nme: y }\nrespond: [{ action: block-ssh-egress, params: { ports: [] } }]\n');
    const r = validatePlaybooks(pbDir, conns);
    assert.equal(r.code, 1);
    assert.match(r.output, /a\.yaml:2: playbook "a": match\.nme: unknown key/);
    assert.match(r.output, /a\.yaml:3: playbook "a": respond\[0\]\.params\.ports: /);
    assert.match(r.output, /2 problems in /);
  });
});
