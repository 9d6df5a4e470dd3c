// The fake API server's admission: Kubernetes name/label rules, NetworkPolicy (kubernetes-models + apiserver checks), Cilium and Calico shapes.
import ipaddr from 'ipaddr.js';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { z } from 'zod';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function validName(name: unknown): boolean {
  return typeof name === 'string' && name.length <= 253 && dns1123Subdomain.test(name);
}
export function validNamespace(ns: unknown): boolean {
  return typeof ns === 'string' && ns.length <= 63 && dns1123Label.test(ns);
}
export function validLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined && !(prefix.length <= 253 && dns1123Subdomain.test(prefix))) return false;
  return name.length >= 1 && name.length <= 63 && qualifiedName.test(name);
}
export function validLabelValue(v: unknown): boolean {
  return typeof v === 'string' && (v === '' || (v.length <= 63 && qualifiedName.test(v)));
}

type Problems = string[];

function checkLabels(where: string, labels: unknown, p: Problems): void {
  if (labels === undefined) return;
  if (!labels || typeof labels !== 'object') { p.push(`${where}: must be a map`); return; }
  for (const [k, v] of Object.entries(labels)) {
    if (!validLabelKey(k)) p.push(`${where}: Invalid value: "${k.slice(0, 80)}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
    if (!validLabelValue(v)) p.push(`${where}[${k.slice(0, 80)}]: Invalid value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (max 63)`);
  }
}

export function checkMetadata(meta: unknown, p: Problems): void {
  const m = (meta ?? {}) as { name?: unknown; labels?: unknown; annotations?: unknown };
  if (!validName(m.name)) p.push(`metadata.name: Invalid value: "${String(m.name).slice(0, 80)}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  checkLabels('metadata.labels', m.labels, p);
  if (m.annotations !== undefined) {
    for (const [k, v] of Object.entries(m.annotations as Record<string, unknown>)) {
      if (!validLabelKey(k)) p.push(`metadata.annotations: Invalid value: "${k.slice(0, 80)}"`);
      if (typeof v !== 'string') p.push(`metadata.annotations[${k.slice(0, 80)}]: must be a string`);
    }
  }
}

function parseCidrStrict(text: unknown): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  if (typeof text !== 'string') return null;
  try {
    const parsed = ipaddr.parseCIDR(text);
    return parsed;
  } catch { return null; }
}

function checkSelector(where: string, sel: unknown, p: Problems): void {
  if (sel === undefined) return;
  const s = sel as { matchLabels?: unknown; matchExpressions?: Array<{ key?: string; operator?: string; values?: unknown[] }> };
  checkLabels(`${where}.matchLabels`, s.matchLabels, p);
  for (const [i, e] of (s.matchExpressions ?? []).entries()) {
    if (!e.key || !validLabelKey(e.key)) p.push(`${where}.matchExpressions[${i}].key: Invalid value`);
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(e.operator))) p.push(`${where}.matchExpressions[${i}].operator: Invalid value`);
    else if (needsValues !== ((e.values?.length ?? 0) > 0)) p.push(`${where}.matchExpressions[${i}].values: ${needsValues ? 'must be specified' : 'may not be specified'}`);
    for (const v of e.values ?? []) if (!validLabelValue(v)) p.push(`${where}.matchExpressions[${i}].values: Invalid value`);
  }
}

/** NetworkPolicy: the OpenAPI schema (kubernetes-models) plus the checks pkg/apis/networking/validation does in code. */
export function validateNetworkPolicy(obj: Record<string, unknown>): Problems {
  const p: Problems = [];
  try {
    new NetworkPolicy(obj as ConstructorParameters<typeof NetworkPolicy>[0]).validate();
  } catch (err) {
    p.push((err as Error).message);
  }
  checkMetadata(obj.metadata, p);
  const spec = (obj.spec ?? {}) as { podSelector?: unknown; ingress?: Array<Record<string, unknown>>; egress?: Array<Record<string, unknown>> };
  if (spec.podSelector === undefined) p.push('spec.podSelector: Required value');
  checkSelector('spec.podSelector', spec.podSelector, p);
  for (const dir of ['ingress', 'egress'] as const) {
    for (const [i, rule] of (spec[dir] ?? []).entries()) {
      const at = `spec.${dir}[${i}]`;
      for (const [j, port] of ((rule.ports ?? []) as Array<{ protocol?: string; port?: unknown; endPort?: unknown }>).entries()) {
        if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) p.push(`${at}.ports[${j}].protocol: Unsupported value`);
        if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535 || !Number.isInteger(port.port))) p.push(`${at}.ports[${j}].port: Invalid value: must be between 1 and 65535, inclusive`);
        if (port.endPort !== undefined) {
          if (typeof port.port !== 'number') p.push(`${at}.ports[${j}].endPort: Invalid value: may not be specified when port is non-numeric`);
          else if (typeof port.endPort !== 'number' || port.endPort < port.port || port.endPort > 65535) p.push(`${at}.ports[${j}].endPort: Invalid value: must be greater than or equal to port and at most 65535`);
        }
      }
      for (const [j, peer] of ((rule[dir === 'ingress' ? 'from' : 'to'] ?? []) as Array<{ ipBlock?: { cidr?: unknown; except?: unknown[] }; podSelector?: unknown; namespaceSelector?: unknown }>).entries()) {
        const pat = `${at}.${dir === 'ingress' ? 'from' : 'to'}[${j}]`;
        const n = [peer.ipBlock, peer.podSelector ?? peer.namespaceSelector].filter((x) => x !== undefined).length;
        if (n !== 1) p.push(`${pat}: Invalid value: must specify exactly one of ipBlock or pod/namespace selectors`);
        checkSelector(`${pat}.podSelector`, peer.podSelector, p);
        checkSelector(`${pat}.namespaceSelector`, peer.namespaceSelector, p);
        if (!peer.ipBlock) continue;
        const cidr = parseCidrStrict(peer.ipBlock.cidr);
        if (!cidr) { p.push(`${pat}.ipBlock.cidr: Invalid value: "${String(peer.ipBlock.cidr).slice(0, 64)}"`); continue; }
        for (const ex of peer.ipBlock.except ?? []) {
          const e = parseCidrStrict(ex);
          if (!e || e[0].kind() !== cidr[0].kind() || e[1] <= cidr[1] || !e[0].match(cidr)) p.push(`${pat}.ipBlock.except: Invalid value: "${String(ex).slice(0, 64)}": must be a strict subset of \`cidr\``);
        }
      }
    }
  }
  return p;
}

const cidrText = z.string().refine((s) => parseCidrStrict(s) !== null, 'invalid CIDR');
const selector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }).strict()).optional(),
}).strict();
const ciliumPorts = z.array(z.object({
  ports: z.array(z.object({ port: z.string().regex(/^\d{1,5}$/).refine((s) => Number(s) <= 65535), endPort: z.number().int().max(65535).optional(), protocol: z.enum(['TCP', 'UDP', 'SCTP', 'ICMP', 'ICMPv6', 'ANY']).optional() }).strict()).max(40),
}).strict());
const cidrRule = z.object({ cidr: cidrText, except: z.array(cidrText).optional() }).strict();
const entities = z.array(z.enum(['all', 'world', 'cluster', 'host', 'remote-node', 'kube-apiserver', 'init', 'health', 'unmanaged', 'ingress']));
const ciliumEgress = z.object({ toCIDR: z.array(cidrText).optional(), toCIDRSet: z.array(cidrRule).optional(), toEntities: entities.optional(), toEndpoints: z.array(selector).optional(), toPorts: ciliumPorts.optional() }).strict();
const ciliumIngress = z.object({ fromCIDR: z.array(cidrText).optional(), fromCIDRSet: z.array(cidrRule).optional(), fromEntities: entities.optional(), fromEndpoints: z.array(selector).optional(), toPorts: ciliumPorts.optional() }).strict();
/** cilium.io/v2 CiliumNetworkPolicy spec, after the CRD's OpenAPI schema (the parts sheriff can emit). */
export const CiliumSpec = z.object({
  endpointSelector: selector,
  description: z.string().optional(),
  enableDefaultDeny: z.object({ egress: z.boolean().optional(), ingress: z.boolean().optional() }).strict().optional(),
  egress: z.array(ciliumEgress).optional(),
  egressDeny: z.array(ciliumEgress).optional(),
  ingress: z.array(ciliumIngress).optional(),
  ingressDeny: z.array(ciliumIngress).optional(),
}).strict();

const calicoEntity = z.object({ nets: z.array(cidrText).optional(), ports: z.array(z.union([z.number().int().min(0).max(65535), z.string().regex(/^\d{1,5}:\d{1,5}$/)])).optional(), selector: z.string().optional(), namespaceSelector: z.string().optional() }).strict();
const calicoRule = z.object({
  action: z.enum(['Allow', 'Deny', 'Log', 'Pass']),
  protocol: z.enum(['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite']).optional(),
  ipVersion: z.union([z.literal(4), z.literal(6)]).optional(),
  source: calicoEntity.optional(),
  destination: calicoEntity.optional(),
}).strict().superRefine((r, ctx) => {
  // Calico refuses ports without a port-bearing protocol, and nets of the wrong IP version.
  if ((r.source?.ports?.length || r.destination?.ports?.length) && !['TCP', 'UDP', 'SCTP', 'UDPLite'].includes(r.protocol ?? '')) ctx.addIssue({ code: 'custom', message: 'rule contains ports but protocol is not TCP, UDP or SCTP' });
  for (const n of [...(r.source?.nets ?? []), ...(r.destination?.nets ?? [])]) {
    const c = parseCidrStrict(n);
    if (r.ipVersion && c && (c[0].kind() === 'ipv4' ? 4 : 6) !== r.ipVersion) ctx.addIssue({ code: 'custom', message: `net ${n} does not match ipVersion ${r.ipVersion}` });
  }
});
/** projectcalico.org/v3 NetworkPolicy spec (namespaced). */
export const CalicoSpec = z.object({
  tier: z.string().optional(),
  order: z.number().min(0).optional(),
  selector: z.string().max(4096),
  types: z.array(z.enum(['Ingress', 'Egress'])).optional(),
  ingress: z.array(calicoRule).optional(),
  egress: z.array(calicoRule).optional(),
}).strict();

export function validateCustom(schema: z.ZodType, obj: Record<string, unknown>): Problems {
  const p: Problems = [];
  checkMetadata(obj.metadata, p);
  const r = schema.safeParse(obj.spec);
  if (!r.success) p.push(...r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`));
  return p;
}
