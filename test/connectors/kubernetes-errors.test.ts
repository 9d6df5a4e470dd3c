// The kubernetes connector: pod lookup outcomes, API error mapping, hostile values refused before any request.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { sampleStep } from '../conformance/connector.js';
import { harness, type Harness } from '../fakes/kubernetes/harness.js';
import { kubernetesConnector } from '../../connectors/kubernetes/index.js';
import { NotResponsibleError } from '../../src/errors.js';
import type { EnforcementStep } from '../../src/contracts/action.js';

const IP = '10.244.5.5';

describe('kubernetes: finding the pod', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h.cleanup(); });
  beforeEach(() => { h.api.reset(); });

  it('no pod with that IP: NotResponsible', async () => {
    h.api.addPod({ namespace: 'shop', name: 'other', ip: '10.244.5.6' });
    await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), (err: unknown) => err instanceof NotResponsibleError);
  });

  it('finished pods are ignored', async () => {
    h.api.addPod({ namespace: 'batch', name: 'job-1', ip: IP, phase: 'Succeeded' });
    h.api.addPod({ namespace: 'batch', name: 'job-2', ip: IP, phase: 'Failed' });
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP });
    const r = await h.connector.apply(sampleStep('block-ssh-egress', IP));
    assert.equal(r.data.pod, 'web-1');
  });

  it('several live pods: ambiguous, naming them, nothing written', async () => {
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP });
    h.api.addPod({ namespace: 'billing', name: 'api-1', ip: IP });
    await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), { code: 'CONNECTOR_AMBIGUOUS', retryable: false, message: /shop\/web-1.*billing\/api-1/ });
    assert.equal(h.api.requests.filter((q) => q.method !== 'GET').length, 0);
  });

  it('a hostNetwork pod is refused with the reason', async () => {
    h.api.addPod({ namespace: 'kube-system', name: 'kube-proxy-x', ip: IP, hostNetwork: true });
    await assert.rejects(h.connector.apply(sampleStep('quarantine-device', IP)), { code: 'CONNECTOR_REJECTED', message: /node address.*kube-proxy-x/ });
    assert.equal(h.api.requests.filter((q) => q.method !== 'GET').length, 0);
  });

  it('configured namespaces limit the search', async () => {
    const h2 = await harness({ namespaces: ['shop'] });
    try {
      h2.api.addPod({ namespace: 'billing', name: 'api-1', ip: IP });
      await assert.rejects(h2.connector.apply(sampleStep('block-ssh-egress', IP)), (err: unknown) => err instanceof NotResponsibleError);
      assert.deepEqual(h2.api.requests.map((q) => q.path), ['/api/v1/namespaces/shop/pods']);
    } finally {
      await h2.cleanup();
    }
  });

  it('rate-limit-new-ports is not a capability', () => {
    assert.equal((kubernetesConnector.capabilities as readonly string[]).includes('rate-limit-new-ports'), false);
  });
});

describe('kubernetes: error mapping', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h.cleanup(); });
  beforeEach(() => {
    h.api.reset();
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP });
  });

  it('401 and 403 are CONNECTOR_AUTH, not retryable', async () => {
    const good = h.api.token;
    h.api.token = 'rotated';
    try {
      await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), { code: 'CONNECTOR_AUTH', retryable: false });
    } finally {
      h.api.token = good;
    }
    h.api.forbid = true;
    await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), (err: unknown) => {
      const e = err as { code: string; retryable: boolean; message: string };
      assert.equal(e.code, 'CONNECTOR_AUTH');
      assert.equal(e.retryable, false);
      assert.match(e.message, /403 Forbidden/);
      assert.doesNotMatch(e.message, new RegExp(h.api.token), 'the token never reaches a message');
      return true;
    });
  });

  for (const [code, reason, expected, retryable] of [
    [404, 'NotFound', 'CONNECTOR_REJECTED', false], [409, 'Conflict', 'CONNECTOR_REJECTED', false], [422, 'Invalid', 'CONNECTOR_REJECTED', false],
    [500, 'InternalError', 'CONNECTOR_UNAVAILABLE', true], [503, 'ServiceUnavailable', 'CONNECTOR_UNAVAILABLE', true], [504, 'Timeout', 'CONNECTOR_TIMEOUT', true],
    [429, 'TooManyRequests', 'CONNECTOR_RATE_LIMITED', true],
  ] as const) {
    it(`${code} ${reason} → ${expected}`, async () => {
      h.api.failNext = { code, reason };
      await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), (err: unknown) => {
        const e = err as { code: string; retryable: boolean; message: string; retryAt?: number };
        assert.equal(e.code, expected);
        assert.equal(e.retryable, retryable);
        assert.match(e.message, new RegExp(`${code} ${reason}: injected ${reason}`), 'the Status message is carried');
        if (code === 429) assert.ok(typeof e.retryAt === 'number' && e.retryAt > Date.now() - 1000);
        return true;
      });
    });
  }

  it('a cut connection is retryable', async () => {
    h.api.failNext = 'drop';
    await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), { code: 'CONNECTOR_UNAVAILABLE', retryable: true });
  });

  it('the fake refuses invalid NetworkPolicies with 422 Invalid, as an API server does', async () => {
    const post = async (metadata: Record<string, unknown>, spec: Record<string, unknown>) => {
      const res = await fetch(`${h.api.url}/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies`, {
        method: 'POST', headers: { authorization: `Bearer ${h.api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec }),
      });
      return { code: res.status, body: await res.json() as { kind: string; reason: string } };
    };
    const ok = await post({ name: 'fine' }, { podSelector: {}, egress: [{ ports: [{ port: 1, endPort: 2 }] }] });
    assert.equal(ok.code, 201);
    for (const [metadata, spec] of [
      [{ name: 'Bad_Name' }, { podSelector: {} }],
      [{ name: 'p1' }, { podSelector: {}, egress: [{ ports: [{ protocol: 'TCP', port: 70000 }] }] }],
      [{ name: 'p2' }, { podSelector: {}, egress: [{ ports: [{ port: 30, endPort: 20 }] }] }],
      [{ name: 'p3' }, { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }],
      [{ name: 'p4' }, { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/8'] } }] }] }],
      [{ name: 'p5', labels: { a: 'bad value' } }, { podSelector: {} }],
      [{ name: 'p6' }, { podSelector: { matchLabels: { a: 'x'.repeat(64) } } }],
      [{ name: 'p7' }, { podSelector: {}, policyTypes: ['Sideways'] }],
    ] as const) {
      const r = await post(metadata, spec);
      assert.equal(r.code, 422, JSON.stringify(metadata) + JSON.stringify(spec));
      assert.deepEqual([r.body.kind, r.body.reason], ['Status', 'Invalid']);
    }
  });

  it('connection refused is CONNECTOR_UNAVAILABLE and retryable', async () => {
    const h2 = await harness();
    await h2.api.stop();
    try {
      await assert.rejects(h2.connector.apply(sampleStep('block-ssh-egress', IP)), { code: 'CONNECTOR_UNAVAILABLE', retryable: true });
      assert.equal((await h2.connector.healthcheck()).ok, false);
    } finally {
      await h2.cleanup();
    }
  });
});

describe('kubernetes: hostile values never reach the API server', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h.cleanup(); });

  const hostile = ['a-abc=word=x', 'a-abcdefgh\r\nX-Injected: 1', 'a-abcdefgh; rm -rf /', 'a-$(reboot)xx', 'a-abc\u0000defgh', `a-${'b'.repeat(10_000)}`, 'a-ABCDEFGH', 'a-abcdéfgh', 'a-abc defgh'];
  for (const bad of hostile) {
    it(`action id ${JSON.stringify(bad.slice(0, 24))} is refused`, async () => {
      h.api.requests.length = 0;
      const step = { ...sampleStep('block-ssh-egress', '10.244.5.5'), actionId: bad } as EnforcementStep;
      await assert.rejects(h.connector.apply(step), { code: 'CONNECTOR_REJECTED' });
      assert.deepEqual(h.api.requests, []);
    });
  }

  for (const ip of ['10.0.0.1; id', '10.0.0.1\r\nHost: evil', '=address=1.2.3.4', '$(id)', '10.0.0.1\u0000', '1'.repeat(10_000), '10.0.0.1,status.phase=Running', '127.0.0.1']) {
    it(`device ip ${JSON.stringify(ip.slice(0, 24))} is refused`, async () => {
      h.api.requests.length = 0;
      const step = { ...sampleStep('quarantine-device', '10.244.5.5'), device: { ip, hostname: 'x\r\ny'.repeat(3000) } } as EnforcementStep;
      await assert.rejects(h.connector.apply(step), { code: 'CONNECTOR_REJECTED' });
      assert.deepEqual(h.api.requests, []);
    });
  }

  it('hostile params (allow CIDR, endpoint, ports) are refused', async () => {
    h.api.requests.length = 0;
    const base = sampleStep('block-endpoint', '10.244.5.5');
    const steps = [
      { ...sampleStep('quarantine-device', '10.244.5.5'), params: { allow: ['10.0.0.0/8\n- cidr: 0.0.0.0/0'] } },
      { ...base, params: { ...base.params, ip: "1.2.3.4/32' || true" } },
      { ...sampleStep('block-ssh-egress', '10.244.5.5'), params: { ports: [70000] } },
      { ...base, action: 'rate-limit-new-ports', params: { perMinute: 1, burst: 1 } },
    ] as EnforcementStep[];
    for (const s of steps) await assert.rejects(h.connector.apply(s), (err: unknown) => ['CONNECTOR_REJECTED', 'CAPABILITY_MISSING'].includes((err as { code: string }).code));
    assert.deepEqual(h.api.requests, []);
  });

  it('a hostile receipt key or pod name is ignored by revert and verify', async () => {
    h.api.requests.length = 0;
    const r = { connector: 'cluster', actionId: 'a-abcdefgh12', action: 'block-ssh-egress' as const, status: 'enforced' as const, detail: '', expiresAt: null };
    for (const key of ['shop/NetworkPolicy/../../../api', 'shop\r\n/NetworkPolicy/x', 'shop/Secret/x', '$(id)/NetworkPolicy/x']) {
      await h.connector.revert({ ...r, key, data: { pod: 'x\r\ny' } });
      assert.equal(await h.connector.verify({ ...r, key, data: {} }), false);
    }
    assert.deepEqual(h.api.requests, []);
  });
});
