// Turns one enforcement step into the policy object of a flavor: vanilla NetworkPolicy, CiliumNetworkPolicy or Calico NetworkPolicy.
import { parseCidr } from '../../src/contracts/net.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { managedAnnotations, managedLabels, podLabelKey, policyName, type PolicyKind } from './names.js';

export type Flavor = 'networkpolicy' | 'cilium' | 'calico';

export interface PolicySettings {
  flavor: Flavor;
  allowNamespaces: string[];
  allowDns: boolean;
  calicoOrder: number;
  calicoTier: string;
}

export interface PolicyTarget {
  namespace: string;
  pod: string;
}

/** Where a flavor's objects live in the API. */
export interface PolicyResource {
  kind: PolicyKind;
  group: string;
  version: string;
  plural: string;
  apiKind: string;
}

export const resources: Record<Flavor, PolicyResource> = {
  networkpolicy: { kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', apiKind: 'NetworkPolicy' },
  cilium: { kind: 'CiliumNetworkPolicy', group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies', apiKind: 'CiliumNetworkPolicy' },
  calico: { kind: 'CalicoNetworkPolicy', group: 'projectcalico.org', version: 'v3', plural: 'networkpolicies', apiKind: 'NetworkPolicy' },
};

export interface PolicyObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; resourceVersion?: string };
  spec: Record<string, unknown>;
}

const NS_LABEL = 'kubernetes.io/metadata.name';

/** Re-parses every CIDR on the way out, whatever the step claims, and splits them by family. */
function cidrs(list: readonly string[]): { v4: string[]; v6: string[] } {
  const out = { v4: [] as string[], v6: [] as string[] };
  for (const text of list) {
    const r = parseCidr(text);
    if ('error' in r) throw new Error(r.error);
    (r.family === 4 ? out.v4 : out.v6).push(r.cidr);
  }
  return out;
}

function checkedPorts(ports: readonly number[]): number[] {
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`port ${String(p).slice(0, 16)} is out of range`);
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** Every TCP/UDP port except the blocked ones, as NetworkPolicy `port`/`endPort` ranges. */
export function complementRanges(blocked: readonly number[]): Array<{ port: number; endPort?: number }> {
  const out: Array<{ port: number; endPort?: number }> = [];
  let start = 1;
  for (const p of [...checkedPorts(blocked), 65536]) {
    if (p > start) out.push(p - 1 === start ? { port: start } : { port: start, endPort: p - 1 });
    start = p + 1;
  }
  return out;
}

export function buildPolicy(step: EnforcementStep, target: PolicyTarget, s: PolicySettings): PolicyObject {
  const res = resources[s.flavor];
  const base = policyName(step.action, step.actionId);
  const name = s.flavor === 'calico' && s.calicoTier !== 'default' ? `${s.calicoTier}.${base}` : base;
  const metadata = { name, namespace: target.namespace, labels: managedLabels(step.action, step.actionId), annotations: managedAnnotations(target.pod, step.expiresAt) };
  const selectorLabel = { [podLabelKey(step.action)]: step.actionId };
  const spec = s.flavor === 'networkpolicy' ? vanillaSpec(step, selectorLabel, s)
    : s.flavor === 'cilium' ? ciliumSpec(step, selectorLabel, s)
      : calicoSpec(step, selectorLabel, s);
  return { apiVersion: `${res.group}/${res.version}`, kind: res.apiKind, metadata, spec };
}

function vanillaSpec(step: EnforcementStep, podLabel: Record<string, string>, s: PolicySettings): Record<string, unknown> {
  const podSelector = { matchLabels: podLabel };
  const allPorts = [{ protocol: 'UDP' }, { protocol: 'SCTP' }];
  switch (step.action) {
    case 'block-ssh-egress': {
      const tcp = complementRanges(step.params.ports).map((r) => ({ protocol: 'TCP', ...r }));
      return { podSelector, policyTypes: ['Egress'], egress: [{ ports: [...tcp, ...allPorts] }] };
    }
    case 'block-endpoint': {
      const ep = cidrs([step.params.ip]);
      const endpoint = (ep.v4[0] ?? ep.v6[0]) as string;
      if (endpoint.endsWith('/0')) throw new Error('refusing to block a /0 endpoint: that is a quarantine');
      const everywhereElse = [
        { ipBlock: ep.v4.length ? { cidr: '0.0.0.0/0', except: [endpoint] } : { cidr: '0.0.0.0/0' } },
        { ipBlock: ep.v6.length ? { cidr: '::/0', except: [endpoint] } : { cidr: '::/0' } },
      ];
      const egress: unknown[] = [{ to: everywhereElse }];
      if (step.params.port !== undefined) {
        // The endpoint stays reachable on every other port and on the other protocols.
        const proto = step.params.protocol === 'udp' ? 'UDP' : 'TCP';
        const other = proto === 'TCP' ? 'UDP' : 'TCP';
        const ranges = complementRanges([step.params.port]).map((r) => ({ protocol: proto, ...r }));
        egress.push({ to: [{ ipBlock: { cidr: endpoint } }], ports: [...ranges, { protocol: other }, { protocol: 'SCTP' }] });
      }
      return { podSelector, policyTypes: ['Egress'], egress };
    }
    case 'quarantine-device': {
      const allow = cidrs(step.params.allow);
      const peers: unknown[] = [...allow.v4, ...allow.v6].map((c) => ({ ipBlock: { cidr: c } }));
      if (s.allowNamespaces.length) peers.push({ namespaceSelector: { matchExpressions: [{ key: NS_LABEL, operator: 'In', values: [...s.allowNamespaces] }] } });
      const egress: unknown[] = peers.length ? [{ to: peers }] : [];
      if (s.allowDns) {
        egress.push({
          to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        });
      }
      return { podSelector, policyTypes: ['Ingress', 'Egress'], ingress: peers.length ? [{ from: peers }] : [], egress };
    }
    case 'rate-limit-new-ports':
      throw new Error('rate-limit-new-ports cannot be expressed as a Kubernetes policy');
  }
}

function ciliumSpec(step: EnforcementStep, podLabel: Record<string, string>, s: PolicySettings): Record<string, unknown> {
  const endpointSelector = { matchLabels: podLabel };
  // A deny-only policy must not switch the pod to default-deny (Cilium does so for any direction with rules).
  const noDefaultDeny = { egress: false, ingress: false };
  switch (step.action) {
    case 'block-ssh-egress': {
      const ports = checkedPorts(step.params.ports).map((p) => ({ port: String(p), protocol: 'TCP' }));
      return { endpointSelector, enableDefaultDeny: noDefaultDeny, egressDeny: [{ toEntities: ['all'], toPorts: [{ ports }] }] };
    }
    case 'block-endpoint': {
      const ep = cidrs([step.params.ip]);
      const rule: Record<string, unknown> = { toCIDRSet: [{ cidr: (ep.v4[0] ?? ep.v6[0]) as string }] };
      if (step.params.port !== undefined) rule.toPorts = [{ ports: [{ port: String(checkedPorts([step.params.port])[0]), protocol: step.params.protocol.toUpperCase() }] }];
      return { endpointSelector, enableDefaultDeny: noDefaultDeny, egressDeny: [rule] };
    }
    case 'quarantine-device': {
      // Deny wins over every allow, so the world side is an egressDeny/ingressDeny of 0.0.0.0/0 and ::/0 *except* the
      // allow-list; in-cluster peers are not CIDR identities in Cilium, so they are cut by default-deny plus allow rules.
      const allow = cidrs(step.params.allow);
      const world = [{ cidr: '0.0.0.0/0', except: allow.v4 }, { cidr: '::/0', except: allow.v6 }]
        .filter((c) => !c.except.some((e) => e.endsWith('/0')))
        .map((c) => (c.except.length ? c : { cidr: c.cidr }));
      const nsPeers = s.allowNamespaces.map((ns) => ({ matchLabels: { 'k8s:io.kubernetes.pod.namespace': ns } }));
      const allowCidrs = [...allow.v4, ...allow.v6];
      const egress: unknown[] = [];
      const ingress: unknown[] = [];
      if (allowCidrs.length) { egress.push({ toCIDR: allowCidrs }); ingress.push({ fromCIDR: allowCidrs }); }
      if (nsPeers.length) { egress.push({ toEndpoints: nsPeers }); ingress.push({ fromEndpoints: nsPeers }); }
      if (s.allowDns) {
        egress.push({
          toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
          toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }] }],
        });
      }
      const spec: Record<string, unknown> = { endpointSelector, enableDefaultDeny: { egress: true, ingress: true } };
      if (world.length) { spec.egressDeny = [{ toCIDRSet: world }]; spec.ingressDeny = [{ fromCIDRSet: world }]; }
      if (egress.length) spec.egress = egress;
      if (ingress.length) spec.ingress = ingress;
      return spec;
    }
    case 'rate-limit-new-ports':
      throw new Error('rate-limit-new-ports cannot be expressed as a Kubernetes policy');
  }
}

function calicoSpec(step: EnforcementStep, podLabel: Record<string, string>, s: PolicySettings): Record<string, unknown> {
  const [[key, value]] = Object.entries(podLabel) as [[string, string]];
  const common = { tier: s.calicoTier, order: s.calicoOrder, selector: `${key} == '${value}'` };
  // Deny rules first; what they do not deny is passed on to the next tier instead of being decided here.
  const pass = { action: 'Pass' };
  switch (step.action) {
    case 'block-ssh-egress':
      return { ...common, types: ['Egress'], egress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: checkedPorts(step.params.ports) } }, pass] };
    case 'block-endpoint': {
      const ep = cidrs([step.params.ip]);
      const rule: Record<string, unknown> = { action: 'Deny', ipVersion: ep.v4.length ? 4 : 6, destination: { nets: [...ep.v4, ...ep.v6] } };
      if (step.params.port !== undefined) {
        rule.protocol = step.params.protocol.toUpperCase();
        rule.destination = { nets: [...ep.v4, ...ep.v6], ports: checkedPorts([step.params.port]) };
      }
      return { ...common, types: ['Egress'], egress: [rule, pass] };
    }
    case 'quarantine-device': {
      const allow = cidrs(step.params.allow);
      const egress: unknown[] = [];
      const ingress: unknown[] = [];
      for (const [ipVersion, nets] of [[4, allow.v4], [6, allow.v6]] as const) {
        if (!nets.length) continue;
        egress.push({ action: 'Allow', ipVersion, destination: { nets } });
        ingress.push({ action: 'Allow', ipVersion, source: { nets } });
      }
      if (s.allowNamespaces.length) {
        const namespaceSelector = `${NS_LABEL} in { ${s.allowNamespaces.map((n) => `'${n}'`).join(', ')} }`;
        egress.push({ action: 'Allow', destination: { namespaceSelector } });
        ingress.push({ action: 'Allow', source: { namespaceSelector } });
      }
      if (s.allowDns) {
        for (const protocol of ['UDP', 'TCP']) {
          egress.push({ action: 'Allow', protocol, destination: { namespaceSelector: `${NS_LABEL} == 'kube-system'`, selector: "k8s-app == 'kube-dns'", ports: [53] } });
        }
      }
      egress.push({ action: 'Deny' });
      ingress.push({ action: 'Deny' });
      return { ...common, types: ['Ingress', 'Egress'], ingress, egress };
    }
    case 'rate-limit-new-ports':
      throw new Error('rate-limit-new-ports cannot be expressed as a Kubernetes policy');
  }
}
