// Deterministic object names, labels and annotations for what sheriff creates in a cluster; all values allow-listed.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ActionId, type ActionName } from '../../src/contracts/action.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'sheriff';
export const LABEL_ACTION_ID = 'sheriff.io/action-id';
export const LABEL_ACTION = 'sheriff.io/action';
export const ANNOTATION_EXPIRES = 'sheriff.io/expires-at';
export const ANNOTATION_POD = 'sheriff.io/pod';
export const MANAGED_SELECTOR = `${MANAGED_BY}=${MANAGED_BY_VALUE}`;

/** Kubernetes rules: DNS-1123 label (namespaces, label-like names) and subdomain (pod and object names). */
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const NamespaceName = z.string().max(63).regex(dns1123Label);
export const ObjectName = z.string().max(253).regex(dns1123Subdomain);

/** The label put on the contained pod: one key per action kind, the action id as value. */
export function podLabelKey(action: ActionName): string {
  return `sheriff.io/${action}`;
}

/** Re-checks the action id although the step schema already did: steps built by hand must not reach a label. */
export function checkedActionId(id: unknown): string {
  const r = ActionId.safeParse(id);
  if (!r.success) throw new Error('action id is not of the form a-[a-z0-9]{8,40}');
  return r.data;
}

/** `sheriff-<action>-<actionId>`, cut to 63 characters with a hash suffix so that it stays unique and stable. */
export function policyName(action: ActionName, actionId: string): string {
  const full = `sheriff-${action}-${checkedActionId(actionId)}`;
  if (full.length <= 63) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, 52).replace(/-+$/, '')}-${digest}`;
}

export function managedLabels(action: ActionName, actionId: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_ACTION_ID]: checkedActionId(actionId), [LABEL_ACTION]: action };
}

export function managedAnnotations(pod: string, expiresAt: number | null): Record<string, string> {
  return { [ANNOTATION_POD]: ObjectName.parse(pod), [ANNOTATION_EXPIRES]: expiresAt === null ? 'never' : new Date(expiresAt).toISOString() };
}

export type PolicyKind = 'NetworkPolicy' | 'CiliumNetworkPolicy' | 'CalicoNetworkPolicy';

/** Receipt key: where the object lives; list() rebuilds the same text from the object it reads back. */
export function receiptKey(namespace: string, kind: PolicyKind, name: string): string {
  return `${namespace}/${kind}/${name}`;
}
