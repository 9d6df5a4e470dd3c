// The shipped Kubernetes ConfigMap holds a sheriff.yaml and playbooks that sheriff itself accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { parseConfig } from '../../src/config.js';
import { loadPlaybookText } from '../../src/playbooks/load.js';

const ENV = ['REDIS_URL', 'SHERIFF_TOKEN_SOC', 'SHERIFF_TOKEN_ADMIN', 'DARKTRACE_WEBHOOK_SECRET'];

describe('deploy/kubernetes/config.yaml', () => {
  it('its sheriff.yaml parses with the Secret\'s variables set, and its playbooks load', () => {
    const docs = parseAllDocuments(readFileSync('deploy/kubernetes/config.yaml', 'utf8')).map((d) => d.toJS() as { metadata: { name: string }; data: Record<string, string> });
    const config = docs.find((d) => d.metadata.name === 'sheriff-config');
    const playbooks = docs.find((d) => d.metadata.name === 'sheriff-playbooks');
    assert.ok(config?.data['sheriff.yaml'] && playbooks);
    for (const k of ENV) process.env[k] = k === 'REDIS_URL' ? 'redis://127.0.0.1:6379' : 'x'.repeat(24);
    try {
      const c = parseConfig(parse(config.data['sheriff.yaml'] as string));
      assert.equal(c.listen, '0.0.0.0:8080');
      assert.equal(c.redisPrefix, '{sheriff}');
      const connectors = Object.entries(c.connectors).map(([name, e]) => ({ name, type: e.type, capabilities: ['block-ssh-egress', 'block-endpoint', 'rate-limit-new-ports', 'quarantine-device'] as const }));
      for (const [file, text] of Object.entries(playbooks.data)) {
        const r = loadPlaybookText(file, text, connectors);
        assert.deepEqual(r.problems, [], file);
        assert.ok(r.playbooks.length > 0);
      }
    } finally {
      for (const k of ENV) delete process.env[k];
    }
  });
});
