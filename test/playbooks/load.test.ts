// Loading playbooks: every problem listed with file:line, params and capability checks, duplicates, shipped playbooks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actionNames } from '../../src/contracts/action.js';
import { loadPlaybooks, loadPlaybookText } from '../../src/playbooks/load.js';

const all = [{ name: 'dry', type: 'log', capabilities: actionNames }];
const dir = mkdtempSync(join(tmpdir(), 'sheriff-pb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BAD = `name: first
match: { name: "x" }
respond:
  - action: block-ssh-egress
    params: { ports: [22, 99999] }
---
name: Bad_Name
match: { name: "y" }
respond: [{ action: block-ssh-egress }]
---
name: third
match:
  name: z
  colour: red
respond:
  - action: quarantine-device
    params: { allow: ["10.0.0.0/8; reboot"] }
  - action: rate-limit-new-ports
    params: { perMinute: 5, speed: 9 }
---
name: first
match: { name: "dup" }
respond: [{ action: block-ssh-egress }]
---
name: needs-peer
match: { name: "p" }
respond: [{ action: block-endpoint, when: { within: 1h } }]
`;

describe('loadPlaybookText', () => {
  it('lists every problem with file and line, not only the first', () => {
    const r = loadPlaybookText('bad.yaml', BAD, all);
    const joined = r.problems.join('\n');
    assert.match(joined, /bad\.yaml:5: playbook "first": respond\[0\]\.params\.ports\[1\]: .*\(params of block-ssh-egress\)/);
    assert.match(joined, /bad\.yaml:7: playbook "Bad_Name": name: playbook names are lower-case/);
    assert.match(joined, /bad\.yaml:14: playbook "third": match\.colour: unknown key/);
    assert.match(joined, /bad\.yaml:17: playbook "third": respond\[0\]\.params\.allow\[0\]: .*not a CIDR/);
    assert.match(joined, /bad\.yaml:19: playbook "third": respond\[1\]\.params\.speed: unknown key/);
    assert.match(joined, /bad\.yaml:21: playbook "first": duplicate name \(first defined at bad\.yaml:1\)/);
    assert.match(joined, /bad\.yaml:27: playbook "needs-peer": respond\[0\]\.when\.within: needs when\.repeat/);
    assert.match(joined, /playbook "needs-peer": match: block-endpoint without params\.ip .* hasPeer: true/);
    assert.equal(r.playbooks.length, 0);
  });
  it('reports YAML syntax errors with a line', () => {
    const r = loadPlaybookText('syntax.yaml', 'name: a\nmatch: { name: [x\nrespond: []\n', all);
    assert.match(r.problems[0] ?? '', /^syntax\.yaml:\d+: YAML: /);
  });
  it('refuses a capability no configured connector offers', () => {
    const only = [{ name: 'edge', type: 'iptables', capabilities: ['block-ssh-egress' as const] }];
    const r = loadPlaybookText('c.yaml', 'name: q\nmatch: { name: x }\nrespond:\n  - action: quarantine-device\n', only);
    assert.deepEqual(r.problems, ['c.yaml:4: playbook "q": respond[0].action: no configured connector offers "quarantine-device" (configured: edge (iptables))']);
  });
  it('compiles good playbooks with their source position', () => {
    const r = loadPlaybookText('ok.yaml', '# c\nname: ok\nmatch: { name: x }\nrespond: [{ action: block-ssh-egress, ttl: 2h, approval: auto }]\n', all);
    assert.deepEqual(r.problems, []);
    assert.equal(r.playbooks[0]?.name, 'ok');
    assert.equal(r.playbooks[0]?.line, 2);
    assert.equal(r.playbooks[0]?.playbook.respond[0]?.ttl, 7_200_000);
  });
});

describe('loadPlaybooks (folder)', () => {
  it('reads *.yaml and *.yml, detects duplicates across files', () => {
    writeFileSync(join(dir, 'a.yaml'), 'name: same\nmatch: { name: x }\nrespond: [{ action: block-ssh-egress }]\n');
    writeFileSync(join(dir, 'b.yml'), '\n\nname: same\nmatch: { name: y }\nrespond: [{ action: block-ssh-egress }]\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a playbook');
    const r = loadPlaybooks(dir, all);
    assert.equal(r.playbooks.length, 1);
    assert.deepEqual(r.problems, [`${join(dir, 'b.yml')}:3: playbook "same": duplicate name (first defined at ${join(dir, 'a.yaml')}:1)`]);
  });
  it('says so for a missing path', () => {
    const r = loadPlaybooks(join(dir, 'nope'), all);
    assert.match(r.problems[0] ?? '', /cannot read \(ENOENT\)/);
  });
  it('the shipped playbooks load cleanly', () => {
    const r = loadPlaybooks(new URL('../../playbooks', import.meta.url).pathname, all);
    assert.deepEqual(r.problems, []);
    for (const n of ['outlaw-crypto-mining', 'outlaw-ssh-spread', 'outlaw-new-ports', 'outlaw-uncommon-port', 'outlaw-repeat-offender', 'zeek-ssh-password-guessing', 'suricata-severity1-outbound', 'alertmanager-quarantine-device']) {
      assert.ok(r.playbooks.some((p) => p.name === n), n);
    }
  });
});
