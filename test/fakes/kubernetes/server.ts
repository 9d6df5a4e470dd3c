// A fake Kubernetes API server on 127.0.0.1: pods by IP, merge-patch labels, NetworkPolicy/Cilium/Calico CRUD, Status errors.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { CalicoSpec, CiliumSpec, checkMetadata, validateCustom, validateNetworkPolicy, validName, validNamespace } from './validate.js';

export interface LoggedRequest { method: string; path: string; query: Record<string, string>; contentType: string | undefined; body: unknown }
export interface FakePod { namespace: string; name: string; ip: string; labels?: Record<string, string>; phase?: string; hostNetwork?: boolean }
type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  spec: Record<string, unknown>;
};

interface ResourceType { apiVersion: string; kind: string; listKind: string; validate: (o: Record<string, unknown>) => string[] }
const resourceTypes: Record<string, ResourceType> = {
  'networking.k8s.io/v1/networkpolicies': { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', validate: validateNetworkPolicy },
  'cilium.io/v2/ciliumnetworkpolicies': { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', listKind: 'CiliumNetworkPolicyList', validate: (o) => validateCustom(CiliumSpec, o) },
  'projectcalico.org/v3/networkpolicies': { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', validate: (o) => validateCustom(CalicoSpec, o) },
};

/** Equality-based label selectors (`a=b,c!=d,e,!f`), what list calls with labelSelector use. */
export function matchesSelector(selector: string | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const ne = term.match(/^([^!=]+)!=(.*)$/);
    if (ne) return labels[ne[1] as string] !== ne[2];
    const eq = term.match(/^([^!=]+)==?(.*)$/);
    if (eq) return labels[eq[1] as string] === eq[2];
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    return term in labels;
  });
}

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeKubeApi {
  readonly requests: LoggedRequest[] = [];
  readonly pods: Obj[] = [];
  readonly objects = new Map<string, Obj>();
  /** Which custom API groups exist (drop one to simulate a cluster without Cilium or Calico). */
  readonly installed = new Set(Object.keys(resourceTypes));
  token = `tok-${Math.random().toString(36).slice(2)}`;
  forbid = false;
  /** The next request fails with this status (or the socket is destroyed for 'drop'). */
  failNext: { code: number; reason: string } | 'drop' | undefined;
  private rv = 100;
  private server: Server | undefined;
  url = '';

  /** Back to an empty cluster that answers every request (between tests). */
  reset(): void {
    this.pods.length = 0;
    this.objects.clear();
    this.requests.length = 0;
    this.forbid = false;
    this.failNext = undefined;
  }

  addPod(p: FakePod): void {
    this.pods.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: { ...(p.labels ?? {}) }, resourceVersion: String(++this.rv), uid: `uid-${this.rv}` },
      spec: { hostNetwork: p.hostNetwork ?? false, containers: [{ name: 'main', image: 'busybox' }] },
      status: { phase: p.phase ?? 'Running', podIP: p.ip },
    });
  }

  pod(namespace: string, name: string): Obj | undefined {
    return this.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
  }

  /** Stored policy objects of one resource (`networking.k8s.io/v1/networkpolicies`, …). */
  stored(resource: string): Obj[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${resource}|`)).map(([, v]) => v);
  }

  /** Seeds an object directly, as another tool or operator would have created it. */
  seed(resource: string, obj: { spec: Record<string, unknown>; metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> } }): void {
    const t = resourceTypes[resource] as ResourceType;
    this.objects.set(`${resource}|${obj.metadata.namespace}|${obj.metadata.name}`, { apiVersion: t.apiVersion, kind: t.kind, ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as Obj);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Writes a kubeconfig pointing at this server with a bearer-token user. */
  async writeKubeconfig(path: string, context = 'fake'): Promise<void> {
    await writeFile(path, [
      'apiVersion: v1', 'kind: Config', `current-context: ${context}`,
      'clusters:', `- name: fake`, '  cluster:', `    server: ${this.url}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: sheriff', '  user:', `    token: ${this.token}`,
      'contexts:', `- name: ${context}`, '  context:', '    cluster: fake', '    user: sheriff', '',
    ].join('\n'), { mode: 0o600 });
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details: Record<string, unknown> = {}): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], body });

    if (req.headers.authorization !== `Bearer ${this.token}`) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (this.forbid) return this.status(res, 403, 'Forbidden', `forbidden: User "system:serviceaccount:sheriff:sheriff" cannot ${req.method?.toLowerCase()} resource`);
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail === 'drop') { req.socket.destroy(); return; }
    if (fail) return this.status(res, fail.code, fail.reason, `injected ${fail.reason}`);

    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'v1') return this.pods_(req, res, parts.slice(2), url.searchParams, body);
    if (parts[0] === 'apis' && parts.length >= 4) {
      const [, group, version] = parts;
      const rest = parts.slice(3);
      const ns = rest[0] === 'namespaces' ? rest[1] : undefined;
      const [plural, name] = ns === undefined ? [rest[0], rest[1]] : [rest[2], rest[3]];
      const resource = `${group}/${version}/${plural}`;
      if (resourceTypes[resource] && this.installed.has(resource)) return this.objects_(req, res, resource, ns, name, url.searchParams, body);
    }
    return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
  }

  private pods_(req: IncomingMessage, res: ServerResponse, rest: string[], q: URLSearchParams, body: unknown): void {
    const ns = rest[0] === 'namespaces' ? rest[1] : undefined;
    const tail = ns === undefined ? rest : rest.slice(2);
    if (tail[0] !== 'pods') return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const name = tail[1];
    if (name === undefined && req.method === 'GET') {
      const field = q.get('fieldSelector') ?? '';
      const ip = field.startsWith('status.podIP=') ? field.slice('status.podIP='.length) : undefined;
      if (field && ip === undefined) return this.status(res, 400, 'BadRequest', `field label not supported: ${field.slice(0, 80)}`);
      const items = this.pods.filter((p) => (ns === undefined || p.metadata.namespace === ns)
        && (ip === undefined || (p.status as { podIP: string }).podIP === ip) && matchesSelector(q.get('labelSelector') ?? undefined, p.metadata.labels));
      return this.send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
    }
    const pod = ns !== undefined && name !== undefined ? this.pod(ns, name) : undefined;
    if (!pod) return this.status(res, 404, 'NotFound', `pods "${String(name).slice(0, 80)}" not found`, { name, kind: 'pods' });
    if (req.method === 'GET') return this.send(res, 200, pod);
    if (req.method !== 'PATCH') return this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
    if (req.headers['content-type'] !== 'application/merge-patch+json') return this.status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    const patched = mergePatch(pod, body) as Obj;
    const problems: string[] = [];
    checkMetadata(patched.metadata, problems);
    if (problems.length) return this.status(res, 422, 'Invalid', `Pod "${name}" is invalid: ${problems.join(', ')}`, { name, kind: 'Pod' });
    patched.metadata.resourceVersion = String(++this.rv);
    this.pods.splice(this.pods.indexOf(pod), 1, patched);
    return this.send(res, 200, patched);
  }

  private objects_(req: IncomingMessage, res: ServerResponse, resource: string, ns: string | undefined, name: string | undefined, q: URLSearchParams, body: unknown): void {
    const t = resourceTypes[resource] as ResourceType;
    const keyOf = (n: string, o: string) => `${resource}|${n}|${o}`;
    if (name === undefined && req.method === 'GET') {
      const items = this.stored(resource).filter((o) => (ns === undefined || o.metadata.namespace === ns) && matchesSelector(q.get('labelSelector') ?? undefined, o.metadata.labels));
      return this.send(res, 200, { kind: t.listKind, apiVersion: t.apiVersion, metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (ns === undefined || !validNamespace(ns)) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (name === undefined && req.method === 'POST') {
      const obj = body as Obj;
      if (!obj || typeof obj !== 'object' || obj.kind !== t.kind || obj.apiVersion !== t.apiVersion) return this.status(res, 400, 'BadRequest', `the object provided is not a ${t.kind}`);
      if (obj.metadata?.namespace !== undefined && obj.metadata.namespace !== ns) return this.status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      const problems = t.validate(obj);
      if (problems.length) return this.status(res, 422, 'Invalid', `${t.kind} "${String(obj.metadata?.name).slice(0, 80)}" is invalid: ${problems.join('; ')}`, { name: obj.metadata?.name, kind: t.kind });
      const key = keyOf(ns, obj.metadata.name);
      if (this.objects.has(key)) return this.status(res, 409, 'AlreadyExists', `${t.kind} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, kind: t.kind });
      const stored = { ...obj, metadata: { ...obj.metadata, namespace: ns, resourceVersion: String(++this.rv), uid: `uid-${this.rv}` } } as Obj;
      this.objects.set(key, stored);
      return this.send(res, 201, stored);
    }
    if (name === undefined || !validName(name)) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const current = this.objects.get(keyOf(ns, name));
    if (!current) return this.status(res, 404, 'NotFound', `${resource.split('/')[2]}.${resource.split('/')[0]} "${name}" not found`, { name, kind: resource.split('/')[2] });
    if (req.method === 'GET') return this.send(res, 200, current);
    if (req.method === 'DELETE') {
      this.objects.delete(keyOf(ns, name));
      return this.send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: resource.split('/')[2] } });
    }
    if (req.method === 'PUT') {
      const obj = body as Obj;
      if (!obj || typeof obj !== 'object' || obj.kind !== t.kind || obj.metadata?.name !== name) return this.status(res, 400, 'BadRequest', 'the name of the object does not match the name on the URL');
      const problems = t.validate(obj);
      if (!obj.metadata.resourceVersion) problems.push('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
      if (problems.length) return this.status(res, 422, 'Invalid', `${t.kind} "${name}" is invalid: ${problems.join('; ')}`, { name, kind: t.kind });
      if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
        return this.status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${resource.split('/')[2]} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: t.kind });
      }
      const stored = { ...obj, metadata: { ...obj.metadata, namespace: ns, resourceVersion: String(++this.rv) } } as Obj;
      this.objects.set(keyOf(ns, name), stored);
      return this.send(res, 200, stored);
    }
    return this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
  }
}
