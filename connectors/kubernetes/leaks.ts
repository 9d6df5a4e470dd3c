// Additive-policy leak detection: which other policies select the contained pod and allow traffic in the same direction.
import type { ActionName } from '../../src/contracts/action.js';

interface Requirement { key: string; operator: string; values?: string[] }
export interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: Requirement[] }

/** Cilium selector keys may carry a source prefix (`k8s:`, `any:`); pod labels never do. */
function plainKey(key: string): string {
  return key.replace(/^(k8s|any):/, '');
}

/** Evaluates a Kubernetes label selector against a pod's labels; an empty selector selects every pod. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[plainKey(k)] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = labels[plainKey(req.key)];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In': if (value === undefined || !values.includes(value)) return false; break;
      case 'NotIn': if (value !== undefined && values.includes(value)) return false; break;
      case 'Exists': if (value === undefined) return false; break;
      case 'DoesNotExist': if (value !== undefined) return false; break;
      default: return false;
    }
  }
  return true;
}

/** The directions whose traffic must stay cut for an action: an allow rule elsewhere in one of them leaks. */
export function directionsOf(action: ActionName): Array<'Ingress' | 'Egress'> {
  return action === 'quarantine-device' ? ['Ingress', 'Egress'] : ['Egress'];
}

export interface NetworkPolicyLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };
}

/** Vanilla NetworkPolicies are unions of allows: any other one selecting the pod with rules in a needed direction re-opens it. */
export function leakingNetworkPolicies(policies: NetworkPolicyLike[], ownName: string, podLabels: Record<string, string>, action: ActionName): string[] {
  const dirs = directionsOf(action);
  const out: string[] = [];
  for (const p of policies) {
    const name = p.metadata?.name ?? '';
    if (name === ownName || !selects(p.spec?.podSelector, podLabels)) continue;
    const spec = p.spec ?? {};
    // policyTypes defaults: Ingress always, Egress when egress rules exist.
    const types = spec.policyTypes ?? ['Ingress', ...(spec.egress?.length ? ['Egress'] : [])];
    const opens = dirs.some((d) => types.includes(d) && ((d === 'Egress' ? spec.egress : spec.ingress)?.length ?? 0) > 0);
    if (opens) out.push(`${p.metadata?.namespace ?? '?'}/NetworkPolicy/${name}`);
  }
  return out;
}

export interface CiliumPolicyLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { endpointSelector?: LabelSelector; ingress?: unknown[]; egress?: unknown[] };
}

/** Cilium allow rules are additive too; only the in-cluster part of a Cilium quarantine depends on them. */
export function leakingCiliumPolicies(policies: CiliumPolicyLike[], ownName: string, podLabels: Record<string, string>, action: ActionName): string[] {
  const dirs = directionsOf(action);
  return policies
    .filter((p) => p.metadata?.name !== ownName && selects(p.spec?.endpointSelector, podLabels))
    .filter((p) => dirs.some((d) => ((d === 'Egress' ? p.spec?.egress : p.spec?.ingress)?.length ?? 0) > 0))
    .map((p) => `${p.metadata?.namespace ?? '?'}/CiliumNetworkPolicy/${p.metadata?.name ?? ''}`);
}
