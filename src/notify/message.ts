// What a notification says: the job payload (zod), the action summary, the console link and the one-line headline.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ActionRecord } from '../contracts/action.js';
import type { Config } from '../config.js';
import type { ActionEvent } from '../control/service.js';

export const notifyEvents = ['approval_needed', 'enforced', 'failed', 'expired', 'reverted', 'kill_switch', 'mode'] as const satisfies readonly ActionEvent[];
export const NotifyEvent = z.enum(notifyEvents);

/** The part of an action record a notification carries: no receipts, no connector data. */
export const ActionSummary = ActionRecord.pick({
  id: true, action: true, state: true, mode: true, target: true, playbook: true, reason: true,
  params: true, createdAt: true, enforcedAt: true, expiresAt: true,
}).extend({
  connectors: z.array(z.object({ name: z.string(), type: z.string(), status: z.string(), detail: z.string() })),
  /** The latest history entry: who moved the action last, and why. */
  last: z.object({ at: z.string(), state: z.string(), by: z.string(), note: z.string() }).nullable(),
});
export type ActionSummary = z.infer<typeof ActionSummary>;

/** Event extras that may travel (mode change, kill switch); anything else the emitter passes is dropped. */
export const EventDetails = z.object({
  from: z.string().max(32).optional(),
  to: z.string().max(32).optional(),
  by: z.string().max(128).optional(),
  reason: z.string().max(2000).optional(),
  reverted: z.number().int().min(0).optional(),
});
export type EventDetails = z.infer<typeof EventDetails>;

/** One delivery to one target. The target is named by id, so the job holds no URL and no secret. */
export const NotifyJob = z.object({
  target: z.string().regex(/^[a-f0-9]{16}$/),
  event: NotifyEvent,
  at: z.string(),
  action: ActionSummary.nullable(),
  details: EventDetails,
  link: z.string(),
  text: z.string(),
});
export type NotifyJob = z.infer<typeof NotifyJob>;

export type NotifyTarget = Config['notify'][number];

/** Stable across processes sharing a config; a hash so neither the (secret) Slack URL nor the secret leaves memory. */
export function targetId(t: NotifyTarget): string {
  return createHash('sha256').update(`${t.type}\n${t.url}`).digest('hex').slice(0, 16);
}

/** For logs: type and host only (a Slack webhook URL's path is itself a credential). */
export function describeTarget(t: NotifyTarget): string {
  return `${t.type}:${new URL(t.url).host}`;
}

export function consoleBase(config: Pick<Config, 'publicUrl' | 'listen'>): string {
  return (config.publicUrl ?? `http://${config.listen}`).replace(/\/+$/, '');
}

export function actionLink(config: Pick<Config, 'publicUrl' | 'listen'>, id: string | null): string {
  return id ? `${consoleBase(config)}/#/actions/${id}` : `${consoleBase(config)}/#/actions`;
}

export function summarise(r: ActionRecord): ActionSummary {
  const last = r.history.at(-1);
  return ActionSummary.parse({
    id: r.id, action: r.action, state: r.state, mode: r.mode, target: r.target, playbook: r.playbook, reason: r.reason,
    params: r.params, createdAt: r.createdAt, enforcedAt: r.enforcedAt, expiresAt: r.expiresAt,
    connectors: r.connectors.map((c) => ({ name: c.name, type: c.type, status: c.status, detail: c.detail.slice(0, 500) })),
    last: last ?? null,
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The human headline shared by Slack and the webhook body. */
export function headline(event: z.infer<typeof NotifyEvent>, a: ActionSummary | null, d: EventDetails): string {
  const what = a ? `${a.action} on ${a.target.ip}${a.target.hostname ? ` (${a.target.hostname})` : ''}` : '';
  const note = a?.last ? clip(a.last.note, 300) : '';
  switch (event) {
    case 'approval_needed': return `Approval needed: ${what}. Why: ${clip(a?.reason ?? '', 300)}`;
    case 'enforced': return `Enforced: ${what}${a?.expiresAt ? ` until ${a.expiresAt}` : ''}`;
    case 'failed': return `Failed: ${what}${note ? `: ${note}` : ''}`;
    case 'expired': return `Expired: ${what} (time limit reached or approval request timed out)`;
    case 'reverted': return `Reverted: ${what}${a?.last ? ` by ${a.last.by}: ${note}` : ''}`;
    case 'kill_switch': return `Kill switch pulled by ${d.by ?? 'unknown'}: ${clip(d.reason ?? '', 300)}. ${d.reverted ?? 0} action(s) being reverted; mode is passive`;
    case 'mode': return `Mode changed from ${d.from ?? '?'} to ${d.to ?? '?'} by ${d.by ?? 'unknown'}${d.reason ? `: ${clip(d.reason, 300)}` : ''}`;
  }
}
