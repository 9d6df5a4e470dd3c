// Property-based fuzzing: normalisers, playbook and config loaders, actions' plans and connector name/word builders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { actionModules } from '../../actions/index.js';
import { actionNames, ActionId, EnforcementStep } from '../../src/contracts/action.js';
import { parseCidr, parseHostIp } from '../../src/contracts/net.js';
import { sourceNames } from '../../src/contracts/alert.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { compileInternal } from '../../src/ingest/common.js';
import { normaliseItems } from '../../src/ingest/index.js';
import { loadPlaybookText } from '../../src/playbooks/load.js';
import { rosAddress } from '../../connectors/routeros/plan.js';
import { checkedActionId, managedLabels, policyName, podLabelKey } from '../../connectors/kubernetes/names.js';

const RUNS = Number(process.env.SHERIFF_FUZZ_RUNS ?? 300);
const hostile = fc.constantFrom(
  '__proto__', 'constructor', 'prototype', '; rm -rf /', '$(reboot)', '`id`', '\u0000', '\n/ip firewall filter remove [find]',
  '=address=0.0.0.0/0', '../../etc/passwd', '10.0.0.1; ls', '0.0.0.0/0', '::/0', '1e309', '-1', '99999999999999999999', 'a'.repeat(5000),
  '{"__proto__":{"polluted":1}}', '%00', '<script>', '10.0.0.1\n10.0.0.2', ' 10.0.0.1 ', '010.000.000.001', '0x0a000001', '::ffff:10.0.0.1',
);
const leaf = fc.oneof(fc.string(), hostile, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map((b) => Number(b)),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e308, Number.MIN_VALUE));
const key = fc.oneof(fc.string({ maxLength: 12 }), hostile, fc.constantFrom('ip', 'device', 'pbid', 'score', 'model', 'src_ip', 'dest_ip', 'labels', 'alerts', 'output_fields'));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).value;
const deep = fc.integer({ min: 50, max: 3000 }).map((n) => {
  let v: unknown = { ip: '10.0.0.1' };
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { device: v, __proto__: v };
  return v;
});
// A JSON text with __proto__ as an own key (JSON.parse keeps it as data, as the HTTP body parser does).
const polluting = json.map((v) => JSON.parse(`{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "x": ${JSON.stringify(v) ?? 'null'}}`) as unknown);

const ctx = { receivedAt: new Date().toISOString(), internal: compileInternal(['10.0.0.0/8', '192.168.0.0/16']), deviceLabels: ['instance', 'ip'] };

function notPolluted() {
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype polluted');
}

describe('fuzz: normalisers', () => {
  for (const source of sourceNames) {
    it(`${source}: arbitrary, hostile, deep and polluting JSON never throws; every accepted alert has a canonical device IP`, () => {
      fc.assert(fc.property(fc.array(fc.oneof(json, deep, polluting), { maxLength: 4 }), (items) => {
        const batch = normaliseItems(source, items, ctx);
        assert.equal(batch.alerts.length + batch.refused.length >= 0, true);
        for (const { alert } of batch.alerts) {
          const p = parseHostIp(alert.device.ip);
          assert.ok(!('error' in p) && p.ip === alert.device.ip, `device ip ${alert.device.ip} is canonical`);
          assert.ok(alert.score >= 0 && alert.score <= 1);
          if (alert.peer?.ip) assert.equal((parseHostIp(alert.peer.ip) as { ip: string }).ip, alert.peer.ip);
          if (alert.peer?.port !== undefined) assert.ok(Number.isInteger(alert.peer.port) && alert.peer.port >= 0 && alert.peer.port <= 65535);
        }
        for (const r of batch.refused) assert.equal(typeof r.reason, 'string');
        notPolluted();
      }), { numRuns: RUNS });
    });
  }
});

describe('fuzz: loaders', () => {
  it('loadPlaybookText: arbitrary YAML/JSON text and structures give problems, never a throw', () => {
    const text = fc.oneof(fc.string({ maxLength: 400 }), json.map((v) => JSON.stringify(v) ?? ''),
      json.map((v) => `name: x\ndescription: y\nmatch: ${JSON.stringify(v)}\nrespond: ${JSON.stringify(v)}\n`),
      fc.constantFrom('&a [*a, *a]', 'a: &x [*x]', '!!js/function "x"', '---\n---\n', 'name: __proto__\nrespond: [{action: quarantine-device}]'));
    fc.assert(fc.property(text, (t) => {
      const r = loadPlaybookText('fuzz.yaml', t, [{ name: 'dry', type: 'log', capabilities: actionNames }]);
      assert.ok(Array.isArray(r.problems));
      notPolluted();
    }), { numRuns: RUNS });
  });

  it('parseConfig: arbitrary input is a config or a ConfigError with messages, never anything else', () => {
    fc.assert(fc.property(fc.oneof(json, polluting, deep, json.map((v) => ({ connectors: { a: v }, limits: v, protected: v }))), (input) => {
      try {
        parseConfig(input);
      } catch (err) {
        assert.ok(err instanceof ConfigError, `unexpected ${(err as Error).name}: ${(err as Error).message}`);
        assert.ok(err.problems.length > 0);
      }
      notPolluted();
    }), { numRuns: RUNS });
  });
});

const ipish = fc.oneof(fc.ipV4(), fc.ipV6(), hostile, fc.string({ maxLength: 40 }), fc.ipV4().map((ip) => `${ip}/${Math.floor(Math.random() * 40)}`));
const SAFE_IP = /^[0-9a-f:.]+(\/\d{1,3})?$/;

describe('fuzz: what reaches a connector', () => {
  for (const action of actionNames) {
    it(`${action}: resolveParams + plan give only validated steps (canonical IPs, ActionId, ports in range) or refuse`, () => {
      const mod = actionModules[action];
      const params = fc.oneof(json, fc.record({ ip: ipish, port: fc.oneof(fc.integer(), leaf), ports: fc.array(fc.oneof(fc.integer({ min: -5, max: 70_000 }), leaf)), allow: fc.array(ipish), perMinute: leaf, burst: leaf, scope: fc.oneof(fc.constantFrom('device', 'all'), leaf) }, { requiredKeys: [] }));
      fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), params, fc.stringMatching(/^a-[a-z0-9]{8,12}$/), (device, raw, actionId) => {
        const target = parseHostIp(device);
        if ('error' in target) return;
        let steps;
        try {
          steps = mod.plan({ ip: target.ip }, mod.resolveParams(raw) as never, { actionId, expiresAt: Date.now() + 60_000 });
        } catch {
          return; // refused before anything reached a connector
        }
        for (const step of steps) {
          const s = EnforcementStep.parse(step);
          assert.ok(ActionId.safeParse(s.actionId).success);
          const walk = (v: unknown, k: string): void => {
            if (typeof v === 'string' && /ip|allow|cidr/i.test(k)) {
              const c = parseCidr(v);
              assert.ok(!('error' in c), `${k}=${v} parses`);
              assert.ok(SAFE_IP.test(v) && (c.cidr === v || c.cidr.replace(/\/(32|128)$/, '') === v), `${k}=${v} is canonical (${c.cidr})`);
            } else if (typeof v === 'number' && /port/i.test(k)) assert.ok(Number.isInteger(v) && v >= 1 && v <= 65535, `${k}=${v}`);
            else if (Array.isArray(v)) v.forEach((x) => walk(x, k));
            else if (v && typeof v === 'object') Object.entries(v).forEach(([kk, x]) => walk(x, kk));
          };
          walk(s.params, 'params');
          walk(s.device.ip, 'ip');
        }
      }), { numRuns: RUNS });
    });
  }

  it('RouterOS words: rosAddress returns a bare IPv4 address or network, or throws', () => {
    fc.assert(fc.property(ipish, (v) => {
      let out: string;
      try { out = rosAddress(v); } catch { return; }
      assert.match(out, /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/);
    }), { numRuns: RUNS });
  });

  it('Kubernetes names and labels: built only from a checked action id, always DNS-1123 / label-safe', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 60 }), hostile, fc.stringMatching(/^a-[a-z0-9]{8,40}$/)), fc.constantFrom(...actionNames), (id, action) => {
      let checked: string;
      try { checked = checkedActionId(id); } catch { return; }
      assert.ok(ActionId.safeParse(checked).success);
      const name = policyName(action, checked);
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(name.length <= 63);
      for (const [k, v] of Object.entries(managedLabels(action, checked))) {
        assert.match(k, /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
        assert.match(v, /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/);
      }
      assert.match(podLabelKey(action), /^[a-z0-9.-]+\/[a-z0-9-]+$/);
    }), { numRuns: RUNS });
  });
});
