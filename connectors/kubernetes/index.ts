// The `kubernetes` connector: contains one pod (found by IP) with a NetworkPolicy, CiliumNetworkPolicy or Calico policy.
import { z } from 'zod';
import { ActionId, ActionName, EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, ConnectorModule, Health } from '../../src/contracts/connector.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { KubeClient, mapError, type PodInfo } from './client.js';
import { leakingCiliumPolicies, leakingNetworkPolicies } from './leaks.js';
import {
  ANNOTATION_EXPIRES, ANNOTATION_POD, LABEL_ACTION, LABEL_ACTION_ID, MANAGED_SELECTOR, NamespaceName, ObjectName,
  podLabelKey, policyName, receiptKey, type PolicyKind,
} from './names.js';
import { buildPolicy, resources, type Flavor, type PolicyObject, type PolicyResource } from './policies.js';

export const KUBERNETES_CONNECTOR = 'kubernetes';
const capabilities = ['block-ssh-egress', 'block-endpoint', 'quarantine-device'] as const satisfies readonly ActionName[];

export const KubernetesOptions = z.object({
  /** Path to a kubeconfig; `~` is expanded. Neither this nor inCluster: the default kubeconfig ($KUBECONFIG, ~/.kube/config). */
  kubeconfig: z.string().min(1).max(4096).optional(),
  context: z.string().min(1).max(253).optional(),
  /** Use the pod's service account (KUBERNETES_SERVICE_HOST + the mounted token). */
  inCluster: z.boolean().default(false),
  flavor: z.enum(['networkpolicy', 'cilium', 'calico']).default('networkpolicy'),
  /** Look for pods only in these namespaces (default: all). */
  namespaces: z.array(NamespaceName).min(1).max(256).optional(),
  /** Quarantined pods may still talk to (and be reached from) these namespaces, e.g. monitoring. */
  allowNamespaces: z.array(NamespaceName).max(64).default([]),
  /** Quarantined pods may still resolve names through kube-dns. */
  allowDns: z.boolean().default(true),
  /** Calico policy order: lower runs first; keep it below every other policy. */
  calicoOrder: z.number().min(0).max(1_000_000).default(1),
  /** Calico tier for sheriff's policies; a dedicated tier ordered first is recommended (see docs). */
  calicoTier: z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).default('default'),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
}).strict().refine((o) => !(o.inCluster && o.kubeconfig), { message: 'set either inCluster or kubeconfig, not both' });
export type KubernetesOptions = z.output<typeof KubernetesOptions>;

const kinds: Record<PolicyKind, PolicyResource> = {
  NetworkPolicy: resources.networkpolicy,
  CiliumNetworkPolicy: resources.cilium,
  CalicoNetworkPolicy: resources.calico,
};

/** What a receipt must carry for revert/verify; re-validated because receipts come back from storage. */
const ReceiptRef = z.object({
  namespace: NamespaceName,
  kind: z.enum(['NetworkPolicy', 'CiliumNetworkPolicy', 'CalicoNetworkPolicy']),
  name: ObjectName,
});

class KubernetesConnector implements Connector {
  readonly type = KUBERNETES_CONNECTOR;
  readonly capabilities = capabilities;
  private client: Promise<KubeClient> | undefined;
  private readonly res: PolicyResource;

  constructor(readonly name: string, private readonly opts: KubernetesOptions, private readonly deps: ConnectorDeps) {
    this.res = resources[opts.flavor as Flavor];
  }

  private api(): Promise<KubeClient> {
    this.client ??= KubeClient.connect(this.opts).catch((err: unknown) => {
      this.client = undefined;
      throw new ConnectorError(this.name, 'CONFIG', `cannot load Kubernetes credentials: ${(err as Error).message.slice(0, 200)}`, { cause: err });
    });
    return this.client;
  }

  /** Runs one API exchange and maps its failure; `what` names the exchange in the error. */
  private async call<T>(what: string, fn: (c: KubeClient) => Promise<T>): Promise<T> {
    const c = await this.api();
    try {
      return await fn(c);
    } catch (err) {
      throw mapError(this.name, what, err);
    }
  }

  async start(): Promise<void> {
    await this.api();
  }

  async healthcheck(): Promise<Health> {
    try {
      // With `namespaces` set, a namespaced Role may be all sheriff has: probe inside the first one.
      const namespace = this.opts.namespaces?.[0];
      const found = await this.call('list policies', (c) => c.listPolicies(this.res, { labelSelector: MANAGED_SELECTOR, ...(namespace ? { namespace } : {}) }));
      return { ok: true, detail: `${this.opts.flavor}: API server reachable, ${found.length} sheriff policies` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  private async findPod(ip: string): Promise<PodInfo> {
    const pods = (await this.call('find pod by IP', (c) => c.podsByIp(ip, this.opts.namespaces)))
      .filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
    const names = (list: PodInfo[]) => list.map((p) => `${p.namespace}/${p.name}`).join(', ');
    const host = pods.filter((p) => p.hostNetwork);
    if (host.length) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${ip} is a node address (hostNetwork pod ${names(host)}); containing it would cut off the node`);
    }
    if (pods.length === 0) throw new NotResponsibleError(this.name, `no running pod has IP ${ip}`);
    if (pods.length > 1) {
      throw new ConnectorError(this.name, 'CONNECTOR_AMBIGUOUS', `several pods have IP ${ip}: ${names(pods)}`, { details: { pods: pods.map((p) => `${p.namespace}/${p.name}`) } });
    }
    const pod = pods[0] as PodInfo;
    if (!NamespaceName.safeParse(pod.namespace).success || !ObjectName.safeParse(pod.name).success) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', 'the API server returned a pod with an invalid name');
    }
    return pod;
  }

  async apply(input: EnforcementStep): Promise<Receipt> {
    // Steps may be built by hand: everything is re-validated before a single request goes out.
    const parsed = EnforcementStep.safeParse(input);
    if (!parsed.success) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `invalid step: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300)}`);
    const step = parsed.data;
    if (!(capabilities as readonly string[]).includes(step.action)) {
      throw new ConnectorError(this.name, 'CAPABILITY_MISSING', `${step.action} cannot be expressed with Kubernetes network policies`);
    }
    const pod = await this.findPod(step.device.ip);
    const labelKey = podLabelKey(step.action);
    const holder = pod.labels[labelKey];
    if (holder !== undefined && holder !== step.actionId && ActionId.safeParse(holder).success) {
      const other = await this.call('read policy', (c) => c.getPolicy(this.res, pod.namespace, policyName(step.action, holder)));
      if (other) {
        throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `pod ${pod.namespace}/${pod.name} is already under ${step.action} by ${holder}; one ${step.action} per pod`);
      }
    }
    let body: PolicyObject;
    try {
      body = buildPolicy(step, { namespace: pod.namespace, pod: pod.name }, this.opts);
    } catch (err) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', (err as Error).message);
    }
    // The policy first, then the label that makes it select the pod: a crash in between leaves nothing enforced by accident.
    const outcome = await this.call(`write ${this.res.kind}`, (c) => c.upsertPolicy(this.res, body));
    if (holder !== step.actionId) {
      await this.call('label pod', (c) => c.patchPodLabels(pod.namespace, pod.name, { [labelKey]: step.actionId }));
    }
    const leaks = await this.findLeaks(step, pod, body.metadata.name);
    const key = receiptKey(pod.namespace, this.res.kind, body.metadata.name);
    const what = `${this.res.kind} ${pod.namespace}/${body.metadata.name} ${outcome} for pod ${pod.name}`;
    this.deps.log.info({ connector: this.name, action: step.action, actionId: step.actionId, key, leaks }, 'kubernetes: policy applied');
    return {
      connector: this.name,
      actionId: step.actionId,
      action: step.action,
      key,
      status: leaks.length ? 'partial' : 'enforced',
      detail: leaks.length ? `${what}; LEAKS: other policies selecting the pod allow this traffic: ${leaks.join(', ')}` : what,
      expiresAt: step.expiresAt,
      data: { namespace: pod.namespace, pod: pod.name, kind: this.res.kind, name: body.metadata.name, flavor: this.opts.flavor, leaks },
    };
  }

  /** Additive allow policies that re-open what this containment closes (vanilla always; Cilium only for the in-cluster part of a quarantine). */
  private async findLeaks(step: EnforcementStep, pod: PodInfo, ownName: string): Promise<string[]> {
    const labels = { ...pod.labels, [podLabelKey(step.action)]: step.actionId };
    if (this.opts.flavor === 'networkpolicy' || (this.opts.flavor === 'cilium' && step.action === 'quarantine-device')) {
      const nps = await this.call('list NetworkPolicies', (c) => c.listPolicies(resources.networkpolicy, { namespace: pod.namespace }));
      const found = leakingNetworkPolicies(nps, this.opts.flavor === 'networkpolicy' ? ownName : '', labels, step.action);
      if (this.opts.flavor === 'cilium') {
        const cnps = await this.call('list CiliumNetworkPolicies', (c) => c.listPolicies(resources.cilium, { namespace: pod.namespace }));
        found.push(...leakingCiliumPolicies(cnps, ownName, labels, step.action));
      }
      return found;
    }
    return [];
  }

  private ref(receipt: Receipt): { namespace: string; res: PolicyResource; name: string; pod: string | undefined; actionId: string | undefined; action: ActionName | undefined } | null {
    const [namespace, kind, name] = receipt.key.split('/');
    const r = ReceiptRef.safeParse({ namespace, kind, name });
    if (!r.success) return null;
    const pod = ObjectName.safeParse(receipt.data.pod);
    const actionId = ActionId.safeParse(receipt.actionId);
    const action = ActionName.safeParse(receipt.action);
    return { namespace: r.data.namespace, res: kinds[r.data.kind], name: r.data.name, pod: pod.success ? pod.data : undefined, actionId: actionId.success ? actionId.data : undefined, action: action.success ? action.data : undefined };
  }

  async revert(receipt: Receipt): Promise<void> {
    const ref = this.ref(receipt);
    if (!ref) return; // nothing of ours can hide behind an invalid key
    const existing = await this.call('read policy', (c) => c.getPolicy(ref.res, ref.namespace, ref.name));
    const pod = ref.pod ?? ObjectName.safeParse(existing?.metadata.annotations?.[ANNOTATION_POD]).data;
    await this.call('delete policy', (c) => c.deletePolicy(ref.res, ref.namespace, ref.name));
    if (!pod || !ref.action || !ref.actionId) return;
    const labelKey = podLabelKey(ref.action);
    const labels = await this.call('read pod', (c) => c.readPodLabels(ref.namespace, pod));
    // Only our own label goes: another action of the same kind may hold the key now.
    if (labels && labels[labelKey] === ref.actionId) {
      try {
        await this.call('unlabel pod', (c) => c.patchPodLabels(ref.namespace, pod, { [labelKey]: null }));
      } catch (err) {
        if ((err as ConnectorError).details && ((err as ConnectorError).details as { httpStatus?: number }).httpStatus === 404) return;
        throw err;
      }
    }
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const ref = this.ref(receipt);
    if (!ref || !ref.action || !ref.actionId) return false;
    const existing = await this.call('read policy', (c) => c.getPolicy(ref.res, ref.namespace, ref.name));
    if (!existing || existing.metadata.labels?.[LABEL_ACTION_ID] !== ref.actionId) return false;
    const pod = ref.pod ?? existing.metadata.annotations?.[ANNOTATION_POD];
    if (!pod || !ObjectName.safeParse(pod).success) return false;
    const labels = await this.call('read pod', (c) => c.readPodLabels(ref.namespace, pod));
    return labels?.[podLabelKey(ref.action)] === ref.actionId;
  }

  async list(): Promise<Receipt[]> {
    const namespaces = this.opts.namespaces ?? [undefined];
    const items = (await Promise.all(namespaces.map((namespace) =>
      this.call(`list ${this.res.kind}`, (c) => c.listPolicies(this.res, { labelSelector: MANAGED_SELECTOR, ...(namespace ? { namespace } : {}) }))))).flat();
    const out: Receipt[] = [];
    for (const item of items) {
      const m = item.metadata;
      const actionId = ActionId.safeParse(m.labels?.[LABEL_ACTION_ID]);
      const action = ActionName.safeParse(m.labels?.[LABEL_ACTION]);
      if (!actionId.success || !action.success || !NamespaceName.safeParse(m.namespace).success || !ObjectName.safeParse(m.name).success) {
        this.deps.log.warn({ connector: this.name, object: `${String(m.namespace).slice(0, 63)}/${String(m.name).slice(0, 253)}` }, 'kubernetes: managed object with unreadable sheriff labels; left alone');
        continue;
      }
      const expires = Date.parse(m.annotations?.[ANNOTATION_EXPIRES] ?? '');
      const pod = m.annotations?.[ANNOTATION_POD];
      out.push({
        connector: this.name,
        actionId: actionId.data,
        action: action.data,
        key: receiptKey(m.namespace, this.res.kind, m.name),
        status: 'enforced',
        detail: `${this.res.kind} ${m.namespace}/${m.name}${pod ? ` for pod ${pod}` : ''}`,
        expiresAt: Number.isFinite(expires) ? expires : null,
        data: { namespace: m.namespace, name: m.name, kind: this.res.kind, flavor: this.opts.flavor, ...(pod && ObjectName.safeParse(pod).success ? { pod } : {}) },
      });
    }
    return out;
  }

  async close(): Promise<void> {}
}

export const kubernetesConnector: ConnectorModule<KubernetesOptions> = {
  type: KUBERNETES_CONNECTOR,
  description: 'Contains one pod (found by its IP) with a NetworkPolicy, a CiliumNetworkPolicy (true deny) or a Calico NetworkPolicy (Deny + order).',
  capabilities,
  privileges: 'ClusterRole (deploy/kubernetes/rbac.yaml): pods get/list/patch; networking.k8s.io networkpolicies, cilium.io ciliumnetworkpolicies '
    + 'and projectcalico.org networkpolicies get/list/create/update/delete; bound to the `sheriff` ServiceAccount (or the kubeconfig user).',
  optionsSchema: KubernetesOptions as unknown as z.ZodType<KubernetesOptions>,
  create: (name, options, deps) => new KubernetesConnector(name, options, deps),
};
