// `sheriff actions catalog`: every action with params, defaults, TTL, example and the connector types offering it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { catalog, printCatalog, registerCatalogCommand } from '../../src/cli/catalog.js';
import { registerPlaybooksCommand } from '../../src/cli/playbooks.js';
import { registerReplayCommand } from '../../src/cli/replay.js';
import { ResponseStep } from '../../src/contracts/playbook.js';

describe('actions catalog', () => {
  it('describes each action with defaults from its schema and a valid example step', () => {
    const entries = catalog();
    assert.deepEqual(entries.map((e) => e.name), ['block-ssh-egress', 'block-endpoint', 'rate-limit-new-ports', 'quarantine-device']);
    const ssh = entries[0];
    assert.deepEqual(ssh?.params, [{ name: 'ports', type: 'integer[]', default: [22, 2222, 2022], optional: true }]);
    assert.equal(ssh?.defaultTtl, '2h');
    const ep = entries.find((e) => e.name === 'block-endpoint');
    assert.deepEqual(ep?.params.find((p) => p.name === 'scope'), { name: 'scope', type: 'string', default: 'device', optional: true });
    assert.deepEqual(ep?.params.find((p) => p.name === 'ip'), { name: 'ip', type: 'string', optional: true });
    for (const e of entries) {
      assert.ok(ResponseStep.safeParse(e.example).success, e.name);
      assert.ok(e.connectorTypes.includes('log'), 'the log connector offers every action');
    }
  });
  it('prints text and JSON', () => {
    const text = printCatalog(false);
    assert.match(text, /^quarantine-device\n/m);
    assert.match(text, /perMinute: integer \(default 10\)/);
    assert.match(text, /offered by connector types: .*log/);
    assert.equal((JSON.parse(printCatalog(true)) as unknown[]).length, 4);
  });
  it('registers under an existing `actions` command and beside the others', () => {
    const program = new Command();
    const actions = program.command('actions');
    actions.command('list');
    registerCatalogCommand(program);
    registerPlaybooksCommand(program);
    registerReplayCommand(program);
    assert.deepEqual(actions.commands.map((c) => c.name()), ['list', 'catalog']);
    assert.deepEqual(program.commands.map((c) => c.name()), ['actions', 'playbooks', 'replay']);
    assert.deepEqual(program.commands[1]?.commands.map((c) => c.name()), ['validate']);
  });
});
