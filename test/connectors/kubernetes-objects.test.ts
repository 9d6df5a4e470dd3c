// The kubernetes connector: the objects each flavor creates, field by field; leak detection; idempotency; drift repair.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { newActionId, sampleStep } from '../conformance/connector.js';
import { harness, type Harness } from '../fakes/kubernetes/harness.js';
import { complementRanges } from '../../connectors/kubernetes/policies.js';
import { policyName } from '../../connectors/kubernetes/names.js';
import type { EnforcementStep } from '../../src/contracts/action.js';

const NP = 'networking.k8s.io/v1/networkpolicies';
const CNP = 'cilium.io/v2/ciliumnetworkpolicies';
const CALICO = 'projectcalico.org/v3/networkpolicies';
const IP = '10.244.3.9';

function only<T>(list: T[]): T {
  assert.equal(list.length, 1, `expected exactly one object, got ${list.length}`);
  return list[0] as T;
}

describe('kubernetes: port complement', () => {
  it('covers 1-65535 except the blocked ports', () => {
    assert.deepEqual(complementRanges([2222, 22, 2022]), [
      { port: 1, endPort: 21 }, { port: 23, endPort: 2021 }, { port: 2023, endPort: 2221 }, { port: 2223, endPort: 65535 },
    ]);
    assert.deepEqual(complementRanges([1, 3, 65535]), [{ port: 2 }, { port: 4, endPort: 65534 }]);
  });
});

describe('kubernetes: object names', () => {
  it('stay within 63 characters, stable and distinct for the longest action ids', () => {
    const a = `a-${'0'.repeat(40)}`;
    const b = `a-${'0'.repeat(39)}1`;
    const n = policyName('quarantine-device', a);
    assert.ok(n.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n), n);
    assert.equal(policyName('quarantine-device', a), n);
    assert.notEqual(policyName('quarantine-device', b), n);
    assert.equal(policyName('block-ssh-egress', 'a-abcdefgh12'), 'sheriff-block-ssh-egress-a-abcdefgh12');
  });
});

describe('kubernetes flavor networkpolicy', () => {
  let h: Harness;
  before(async () => { h = await harness({ flavor: 'networkpolicy', allowNamespaces: ['monitoring'] }); });
  after(async () => { await h.cleanup(); });
  beforeEach(() => {
    h.api.reset();
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP, labels: { app: 'web', tier: 'front' } });
    h.api.addPod({ namespace: 'shop', name: 'web-2', ip: '10.244.3.10', labels: { app: 'web', tier: 'front' } });
  });

  it('block-ssh-egress: labels that pod only and allows every other port', async () => {
    const step = sampleStep('block-ssh-egress', IP);
    const r = await h.connector.apply(step);
    const name = `sheriff-block-ssh-egress-${step.actionId}`;
    assert.equal(r.status, 'enforced');
    assert.equal(r.key, `shop/NetworkPolicy/${name}`);
    const np = only(h.api.stored(NP));
    assert.equal(np.metadata.name, name);
    assert.equal(np.metadata.namespace, 'shop');
    assert.deepEqual(np.metadata.labels, { 'app.kubernetes.io/managed-by': 'sheriff', 'sheriff.io/action-id': step.actionId, 'sheriff.io/action': 'block-ssh-egress' });
    assert.equal(np.metadata.annotations?.['sheriff.io/expires-at'], new Date(step.expiresAt as number).toISOString());
    assert.deepEqual(np.spec, {
      podSelector: { matchLabels: { 'sheriff.io/block-ssh-egress': step.actionId } },
      policyTypes: ['Egress'],
      egress: [{ ports: [
        { protocol: 'TCP', port: 1, endPort: 21 }, { protocol: 'TCP', port: 23, endPort: 2021 },
        { protocol: 'TCP', port: 2023, endPort: 2221 }, { protocol: 'TCP', port: 2223, endPort: 65535 },
        { protocol: 'UDP' }, { protocol: 'SCTP' },
      ] }],
    });
    assert.equal(h.api.pod('shop', 'web-1')?.metadata.labels?.['sheriff.io/block-ssh-egress'], step.actionId);
    assert.equal(h.api.pod('shop', 'web-2')?.metadata.labels?.['sheriff.io/block-ssh-egress'], undefined, 'the sibling pod of the Deployment is untouched');
    const patch = h.api.requests.find((q) => q.method === 'PATCH');
    assert.equal(patch?.contentType, 'application/merge-patch+json');
    assert.equal(patch?.query.fieldSelector, undefined);
    assert.equal(h.api.requests.find((q) => q.path === '/api/v1/pods')?.query.fieldSelector, `status.podIP=${IP}`);
  });

  it('block-endpoint: everything but the endpoint, and the endpoint on other ports', async () => {
    const step = sampleStep('block-endpoint', IP);
    await h.connector.apply(step);
    const np = only(h.api.stored(NP));
    assert.deepEqual(np.spec, {
      podSelector: { matchLabels: { 'sheriff.io/block-endpoint': step.actionId } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.7/32'] } }, { ipBlock: { cidr: '::/0' } }] },
        { to: [{ ipBlock: { cidr: '203.0.113.7/32' } }], ports: [{ protocol: 'TCP', port: 1, endPort: 442 }, { protocol: 'TCP', port: 444, endPort: 65535 }, { protocol: 'UDP' }, { protocol: 'SCTP' }] },
      ],
    });
  });

  it('block-endpoint without a port, IPv6 endpoint', async () => {
    const step = { ...sampleStep('block-endpoint', IP), params: { ip: '2001:db8::7/128', protocol: 'tcp', scope: 'device' } } as EnforcementStep;
    await h.connector.apply(step);
    assert.deepEqual(only(h.api.stored(NP)).spec.egress, [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0', except: ['2001:db8::7/128'] } }] }]);
  });

  it('quarantine: ingress and egress only to the allow-list, allowed namespaces and kube-dns', async () => {
    const step = sampleStep('quarantine-device', IP);
    const r = await h.connector.apply(step);
    assert.equal(r.status, 'enforced');
    const peers = [{ ipBlock: { cidr: '198.51.100.0/24' } }, { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['monitoring'] }] } }];
    assert.deepEqual(only(h.api.stored(NP)).spec, {
      podSelector: { matchLabels: { 'sheriff.io/quarantine-device': step.actionId } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: peers }],
      egress: [{ to: peers }, {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      }],
    });
  });

  it('another policy selecting the pod and allowing egress makes the receipt partial, naming it', async () => {
    h.api.seed(NP, { metadata: { name: 'web-allow-all', namespace: 'shop' }, spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, policyTypes: ['Egress'], egress: [{}] } });
    h.api.seed(NP, { metadata: { name: 'db-egress', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'], egress: [{}] } });
    h.api.seed(NP, { metadata: { name: 'web-ingress', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] } });
    const r = await h.connector.apply(sampleStep('block-ssh-egress', IP));
    assert.equal(r.status, 'partial');
    assert.match(r.detail, /shop\/NetworkPolicy\/web-allow-all/);
    assert.doesNotMatch(r.detail, /db-egress/, 'a policy for other pods does not leak');
    assert.doesNotMatch(r.detail, /web-ingress/, 'an ingress-only policy does not leak an egress block');
    assert.deepEqual(r.data.leaks, ['shop/NetworkPolicy/web-allow-all']);
    const q = await h.connector.apply(sampleStep('quarantine-device', IP));
    assert.equal(q.status, 'partial');
    assert.match(q.detail, /web-ingress/, 'for a quarantine an ingress allow leaks too');
  });

  it('a policy selecting other pods only leaves the receipt enforced', async () => {
    h.api.seed(NP, { metadata: { name: 'db-egress', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'], egress: [{}] } });
    h.api.seed(NP, { metadata: { name: 'other-ns', namespace: 'billing' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } });
    h.api.seed(NP, { metadata: { name: 'deny-all', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Egress', 'Ingress'] } });
    const r = await h.connector.apply(sampleStep('block-ssh-egress', IP));
    assert.equal(r.status, 'enforced', r.detail);
  });

  it('apply twice: one object, one label, expiry moved forward', async () => {
    const step = sampleStep('block-ssh-egress', IP);
    const r1 = await h.connector.apply(step);
    const later = { ...step, expiresAt: (step.expiresAt as number) + 3_600_000 };
    const r2 = await h.connector.apply(later);
    assert.equal(r1.key, r2.key);
    const np = only(h.api.stored(NP));
    assert.equal(np.metadata.annotations?.['sheriff.io/expires-at'], new Date(later.expiresAt).toISOString());
    assert.equal(h.api.requests.filter((q) => q.method === 'PATCH').length, 1, 'the label is written once');
    assert.equal(h.api.requests.filter((q) => q.method === 'PUT').length, 1, 'the second apply replaces');
    const listed = await h.connector.list();
    assert.deepEqual(listed.map((x) => [x.key, x.actionId, x.expiresAt]), [[r1.key, step.actionId, later.expiresAt]]);
  });

  it('drift: a deleted policy disappears from list() and re-apply restores it', async () => {
    const step = sampleStep('quarantine-device', IP);
    const r = await h.connector.apply(step);
    h.api.objects.clear();
    h.api.requests.length = 0;
    assert.equal(await h.connector.verify(r), false);
    assert.deepEqual(await h.connector.list(), []);
    await h.connector.apply(step);
    assert.equal(await h.connector.verify(r), true);
    assert.deepEqual((await h.connector.list()).map((x) => x.key), [r.key]);
  });

  it('drift: a removed pod label makes verify() false', async () => {
    const step = sampleStep('block-ssh-egress', IP);
    const r = await h.connector.apply(step);
    delete h.api.pod('shop', 'web-1')?.metadata.labels?.['sheriff.io/block-ssh-egress'];
    assert.equal(await h.connector.verify(r), false);
  });

  it('an orphan managed object shows up in list() and its revert removes policy and label', async () => {
    const id = newActionId();
    h.api.seed(NP, {
      metadata: { name: `sheriff-block-endpoint-${id}`, namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'sheriff', 'sheriff.io/action-id': id, 'sheriff.io/action': 'block-endpoint' }, annotations: { 'sheriff.io/pod': 'web-1', 'sheriff.io/expires-at': 'never' } },
      spec: { podSelector: { matchLabels: { 'sheriff.io/block-endpoint': id } }, policyTypes: ['Egress'] },
    });
    (h.api.pod('shop', 'web-1')?.metadata.labels as Record<string, string>)['sheriff.io/block-endpoint'] = id;
    h.api.seed(NP, { metadata: { name: 'not-ours', namespace: 'shop' }, spec: { podSelector: {} } });
    const listed = await h.connector.list();
    assert.equal(listed.length, 1);
    const orphan = listed[0] as (typeof listed)[0];
    assert.deepEqual([orphan.key, orphan.actionId, orphan.action, orphan.expiresAt], [`shop/NetworkPolicy/sheriff-block-endpoint-${id}`, id, 'block-endpoint', null]);
    await h.connector.revert(orphan);
    assert.deepEqual(h.api.stored(NP).map((o) => o.metadata.name), ['not-ours']);
    assert.equal(h.api.pod('shop', 'web-1')?.metadata.labels?.['sheriff.io/block-endpoint'], undefined);
    assert.equal(h.api.pod('shop', 'web-1')?.metadata.labels?.app, 'web');
  });

  it('a second action of the same kind on a pod is refused while the first is in force', async () => {
    await h.connector.apply(sampleStep('block-endpoint', IP));
    await assert.rejects(h.connector.apply(sampleStep('block-endpoint', IP)), { code: 'CONNECTOR_REJECTED', message: /already under block-endpoint/ });
    assert.equal(h.api.stored(NP).length, 1);
  });
});

describe('kubernetes flavor cilium', () => {
  let h: Harness;
  before(async () => { h = await harness({ flavor: 'cilium', allowNamespaces: ['monitoring'] }); });
  after(async () => { await h.cleanup(); });
  beforeEach(() => {
    h.api.reset();
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP, labels: { app: 'web' } });
  });

  it('block-ssh-egress: egressDeny on the SSH ports without default-deny', async () => {
    const step = sampleStep('block-ssh-egress', IP);
    const r = await h.connector.apply(step);
    assert.equal(r.key, `shop/CiliumNetworkPolicy/sheriff-block-ssh-egress-${step.actionId}`);
    const cnp = only(h.api.stored(CNP));
    assert.equal(cnp.apiVersion, 'cilium.io/v2');
    assert.equal(cnp.kind, 'CiliumNetworkPolicy');
    assert.deepEqual(cnp.spec, {
      endpointSelector: { matchLabels: { 'sheriff.io/block-ssh-egress': step.actionId } },
      enableDefaultDeny: { egress: false, ingress: false },
      egressDeny: [{ toEntities: ['all'], toPorts: [{ ports: [{ port: '22', protocol: 'TCP' }, { port: '2022', protocol: 'TCP' }, { port: '2222', protocol: 'TCP' }] }] }],
    });
    assert.equal(h.api.stored(NP).length, 0);
  });

  it('block-endpoint: egressDeny toCIDRSet with the port', async () => {
    const step = sampleStep('block-endpoint', IP);
    await h.connector.apply(step);
    assert.deepEqual(only(h.api.stored(CNP)).spec.egressDeny, [{ toCIDRSet: [{ cidr: '203.0.113.7/32' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }]);
  });

  it('quarantine: world denied except the allow-list, in-cluster default-deny with allowed namespaces and DNS', async () => {
    const step = sampleStep('quarantine-device', IP);
    const r = await h.connector.apply(step);
    assert.equal(r.status, 'enforced');
    assert.deepEqual(only(h.api.stored(CNP)).spec, {
      endpointSelector: { matchLabels: { 'sheriff.io/quarantine-device': step.actionId } },
      enableDefaultDeny: { egress: true, ingress: true },
      egressDeny: [{ toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['198.51.100.0/24'] }, { cidr: '::/0' }] }],
      ingressDeny: [{ fromCIDRSet: [{ cidr: '0.0.0.0/0', except: ['198.51.100.0/24'] }, { cidr: '::/0' }] }],
      egress: [
        { toCIDR: ['198.51.100.0/24'] },
        { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'monitoring' } }] },
        { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }], toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }] }] },
      ],
      ingress: [{ fromCIDR: ['198.51.100.0/24'] }, { fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'monitoring' } }] }],
    });
  });

  it('quarantine is partial when an allow policy re-opens in-cluster traffic; deny-only blocks are not', async () => {
    h.api.seed(CNP, { metadata: { name: 'web-allow', namespace: 'shop' }, spec: { endpointSelector: { matchLabels: { 'k8s:app': 'web' } }, egress: [{ toEntities: ['cluster'] }] } });
    const q = await h.connector.apply(sampleStep('quarantine-device', IP));
    assert.equal(q.status, 'partial');
    assert.match(q.detail, /shop\/CiliumNetworkPolicy\/web-allow/);
    const b = await h.connector.apply(sampleStep('block-ssh-egress', IP));
    assert.equal(b.status, 'enforced', 'egressDeny wins over any allow');
  });

  it('without the Cilium CRDs the apply is rejected, not retried', async () => {
    h.api.installed.delete(CNP);
    try {
      await assert.rejects(h.connector.apply(sampleStep('block-ssh-egress', IP)), { code: 'CONNECTOR_REJECTED', retryable: false });
    } finally {
      h.api.installed.add(CNP);
    }
  });
});

describe('kubernetes flavor calico', () => {
  let h: Harness;
  before(async () => { h = await harness({ flavor: 'calico', calicoOrder: 5, allowNamespaces: ['monitoring', 'ops'] }); });
  after(async () => { await h.cleanup(); });
  beforeEach(() => {
    h.api.reset();
    h.api.addPod({ namespace: 'shop', name: 'web-1', ip: IP, labels: { app: 'web' } });
  });

  it('block-ssh-egress: Deny on the SSH ports first, the rest passed on', async () => {
    const step = sampleStep('block-ssh-egress', IP);
    const r = await h.connector.apply(step);
    assert.equal(r.key, `shop/CalicoNetworkPolicy/sheriff-block-ssh-egress-${step.actionId}`);
    const pol = only(h.api.stored(CALICO));
    assert.equal(pol.apiVersion, 'projectcalico.org/v3');
    assert.deepEqual(pol.spec, {
      tier: 'default', order: 5, selector: `sheriff.io/block-ssh-egress == '${step.actionId}'`, types: ['Egress'],
      egress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [22, 2022, 2222] } }, { action: 'Pass' }],
    });
  });

  it('block-endpoint: Deny to the endpoint net and port', async () => {
    await h.connector.apply(sampleStep('block-endpoint', IP));
    assert.deepEqual(only(h.api.stored(CALICO)).spec.egress, [
      { action: 'Deny', ipVersion: 4, protocol: 'TCP', destination: { nets: ['203.0.113.7/32'], ports: [443] } }, { action: 'Pass' },
    ]);
  });

  it('quarantine: Allow the allow-list, namespaces and DNS, then Deny', async () => {
    const step = sampleStep('quarantine-device', IP);
    await h.connector.apply(step);
    const spec = only(h.api.stored(CALICO)).spec;
    const ns = "kubernetes.io/metadata.name in { 'monitoring', 'ops' }";
    assert.deepEqual(spec.types, ['Ingress', 'Egress']);
    assert.deepEqual(spec.ingress, [
      { action: 'Allow', ipVersion: 4, source: { nets: ['198.51.100.0/24'] } }, { action: 'Allow', source: { namespaceSelector: ns } }, { action: 'Deny' },
    ]);
    assert.deepEqual(spec.egress, [
      { action: 'Allow', ipVersion: 4, destination: { nets: ['198.51.100.0/24'] } },
      { action: 'Allow', destination: { namespaceSelector: ns } },
      { action: 'Allow', protocol: 'UDP', destination: { namespaceSelector: "kubernetes.io/metadata.name == 'kube-system'", selector: "k8s-app == 'kube-dns'", ports: [53] } },
      { action: 'Allow', protocol: 'TCP', destination: { namespaceSelector: "kubernetes.io/metadata.name == 'kube-system'", selector: "k8s-app == 'kube-dns'", ports: [53] } },
      { action: 'Deny' },
    ]);
  });
});
