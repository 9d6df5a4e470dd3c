// Thin layer over @kubernetes/client-node 1.x: kubeconfig loading, request timeouts, and API errors mapped to the catalogue.
import { homedir } from 'node:os';
import { ConnectorError, retryAfterAt } from '../../src/errors.js';
import type { PolicyObject, PolicyResource } from './policies.js';

type K8s = typeof import('@kubernetes/client-node');

export interface ClientOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  inCluster?: boolean | undefined;
  timeoutMs: number;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  phase: string;
  hostNetwork: boolean;
}

interface StatusBody { message?: string; reason?: string; code?: number }

/** Reads the Status object the API server sends with a failure; client-node 1.x hands it over as raw JSON text. */
function statusOf(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try { return JSON.parse(body) as StatusBody; } catch { return {}; }
  }
  return body && typeof body === 'object' ? body as StatusBody : {};
}

/** Turns whatever client-node threw into a typed, secret-free ConnectorError. */
export function mapError(connector: string, what: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string>; name?: string; type?: string; message?: string };
  if (typeof e.code === 'number') {
    const status = statusOf(e.body);
    const detail = `${what}: HTTP ${e.code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message.slice(0, 300)}` : ''}`;
    const opts = { cause: err, details: { httpStatus: e.code, reason: status.reason } };
    if (e.code === 401 || e.code === 403) return new ConnectorError(connector, 'CONNECTOR_AUTH', detail, opts);
    if (e.code === 429) {
      return new ConnectorError(connector, 'CONNECTOR_RATE_LIMITED', detail, { ...opts, retryAt: retryAfterAt(e.headers?.['retry-after'], 1000) });
    }
    if (e.code === 504 || e.code === 408) return new ConnectorError(connector, 'CONNECTOR_TIMEOUT', detail, opts);
    if (e.code >= 500) return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', detail, opts);
    return new ConnectorError(connector, 'CONNECTOR_REJECTED', detail, opts);
  }
  if (e.name === 'AbortError' || e.type === 'aborted') return new ConnectorError(connector, 'CONNECTOR_TIMEOUT', `${what}: no answer in time`, { cause: err });
  const code = typeof e.code === 'string' ? ` (${e.code})` : '';
  return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', `${what}: API server unreachable${code}`, { cause: err });
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 404;
}

function isConflict(err: unknown): boolean {
  return (err as { code?: unknown }).code === 409;
}

export class KubeClient {
  private constructor(
    private readonly k8s: K8s,
    private readonly core: InstanceType<K8s['CoreV1Api']>,
    private readonly custom: InstanceType<K8s['CustomObjectsApi']>,
    readonly server: string,
  ) {}

  static async connect(opts: ClientOptions): Promise<KubeClient> {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    if (opts.inCluster) kc.loadFromCluster();
    else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig.replace(/^~(?=$|\/)/, homedir()));
    else kc.loadFromDefault();
    if (opts.context) kc.setCurrentContext(opts.context);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    // Every request gets its own deadline: a hung API server must not hold an enforce job forever.
    const timeout = {
      pre: async (ctx: import('@kubernetes/client-node').RequestContext) => { ctx.setSignal(AbortSignal.timeout(opts.timeoutMs)); return ctx; },
      post: async (res: import('@kubernetes/client-node').ResponseContext) => res,
    };
    const make = <T>(Api: new (c: import('@kubernetes/client-node').Configuration) => T): T => new Api(k8s.createConfiguration({
      baseServer: new k8s.ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [timeout],
    }));
    return new KubeClient(k8s, make(k8s.CoreV1Api), make(k8s.CustomObjectsApi), cluster.server);
  }

  async podsByIp(ip: string, namespaces: readonly string[] | undefined): Promise<PodInfo[]> {
    const fieldSelector = `status.podIP=${ip}`;
    const lists = namespaces?.length
      ? await Promise.all(namespaces.map((namespace) => this.core.listNamespacedPod({ namespace, fieldSelector })))
      : [await this.core.listPodForAllNamespaces({ fieldSelector })];
    return lists.flatMap((l) => l.items).map((p) => ({
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      labels: p.metadata?.labels ?? {},
      phase: p.status?.phase ?? 'Unknown',
      hostNetwork: p.spec?.hostNetwork === true,
    }));
  }

  async readPodLabels(namespace: string, name: string): Promise<Record<string, string> | null> {
    try {
      const pod = await this.core.readNamespacedPod({ namespace, name });
      return pod.metadata?.labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Merge-patches pod labels; a null value deletes the label. */
  async patchPodLabels(namespace: string, name: string, labels: Record<string, string | null>): Promise<void> {
    await this.core.patchNamespacedPod(
      { namespace, name, body: { metadata: { labels } } },
      this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
    );
  }

  // One code path for the three flavors: the custom-objects client builds the same REST paths as the typed
  // NetworkingV1Api (/apis/<group>/<version>/namespaces/<ns>/<plural>) and leaves our bodies untouched.
  async getPolicy(res: PolicyResource, namespace: string, name: string): Promise<PolicyObject | null> {
    try {
      return await this.custom.getNamespacedCustomObject({ group: res.group, version: res.version, plural: res.plural, namespace, name }) as PolicyObject;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Create, or on AlreadyExists read and replace with the current resourceVersion (once more on a stale-version Conflict). */
  async upsertPolicy(res: PolicyResource, body: PolicyObject): Promise<'created' | 'replaced'> {
    const ref = { group: res.group, version: res.version, plural: res.plural, namespace: body.metadata.namespace };
    try {
      await this.custom.createNamespacedCustomObject({ ...ref, body });
      return 'created';
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    for (let attempt = 0; ; attempt++) {
      const current = await this.getPolicy(res, body.metadata.namespace, body.metadata.name);
      try {
        if (!current) {
          await this.custom.createNamespacedCustomObject({ ...ref, body });
          return 'created';
        }
        const next = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } };
        await this.custom.replaceNamespacedCustomObject({ ...ref, name: body.metadata.name, body: next });
        return 'replaced';
      } catch (err) {
        if (!isConflict(err) || attempt >= 2) throw err;
      }
    }
  }

  /** Deletes a policy; true when it existed. */
  async deletePolicy(res: PolicyResource, namespace: string, name: string): Promise<boolean> {
    try {
      await this.custom.deleteNamespacedCustomObject({ group: res.group, version: res.version, plural: res.plural, namespace, name });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async listPolicies(res: PolicyResource, opts: { namespace?: string; labelSelector?: string }): Promise<PolicyObject[]> {
    const ref = { group: res.group, version: res.version, plural: res.plural, labelSelector: opts.labelSelector };
    const list = opts.namespace
      ? await this.custom.listNamespacedCustomObject({ ...ref, namespace: opts.namespace })
      : await this.custom.listClusterCustomObject(ref);
    return ((list as { items?: PolicyObject[] }).items ?? []);
  }
}
