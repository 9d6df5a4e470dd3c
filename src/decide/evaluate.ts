// evaluate(): one alert + the compiled playbooks + counters → the action requests, each with a sentence of why.
import { actionModules } from '../../actions/index.js';
import type { AlertView } from '../contracts/action-module.js';
import { parseHostIp } from '../contracts/net.js';
import type { ResponseStep } from '../contracts/playbook.js';
import type { CompiledPlaybook } from '../playbooks/match.js';
import { paramsKey } from './guards.js';
import type { ActionRequest, DecideState } from './types.js';

/** Escalation windows default to a day, the span fail2ban-style repeat-offender rules usually look at. */
export const DEFAULT_REPEAT_WINDOW_MS = 24 * 3_600_000;

export interface Skipped {
  playbook: string;
  action?: string;
  reason: string;
}

export interface PlaybookHit {
  playbook: string;
  /** Matches of this playbook for the device, per window (ms → count), this alert included. */
  counts: Record<number, number>;
  fired: boolean;
}

export interface EvaluateOutcome {
  requests: ActionRequest[];
  /** Steps that matched but could not become a request (e.g. block-endpoint without a usable peer). */
  skipped: Skipped[];
  hits: PlaybookHit[];
}

export function countKey(playbook: string, ip: string, windowMs: number): string {
  return `match:${playbook}:${ip}:${windowMs}`;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${s}`;
}

function fmt(ms: number): string {
  for (const [u, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

/** Alert text in a reason: no control or bidi-override characters (the reason reaches logs, audit, Slack). */
export function cleanText(text: string, max = 160): string {
  return text.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** Only tame hostnames travel with the target; anything else stays in the alert and out of connector words. */
const TAME_HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;

function repeatWindow(step: ResponseStep, pb: CompiledPlaybook): number {
  return step.when?.within ?? pb.playbook.match.threshold?.within ?? DEFAULT_REPEAT_WINDOW_MS;
}

export async function evaluateDetailed(alert: AlertView, playbooks: readonly CompiledPlaybook[], state: DecideState, now: number): Promise<EvaluateOutcome> {
  const out: EvaluateOutcome = { requests: [], skipped: [], hits: [] };
  const device = parseHostIp(alert.device.ip);
  if ('error' in device) {
    out.skipped.push({ playbook: '*', reason: `device address refused: ${device.error}` });
    return out;
  }
  const ip = device.ip;
  const hostname = alert.device.hostname;
  const target = { ip, ...(hostname !== undefined && TAME_HOSTNAME.test(hostname) ? { hostname } : {}) };
  let contained: Promise<boolean> | undefined;
  const isContained = () => (contained ??= state.deviceContained(ip));

  for (const pb of playbooks) {
    if (!pb.playbook.enabled) continue;
    const m = pb.match(alert);
    if (!m) continue;
    const threshold = pb.playbook.match.threshold;
    const windows = new Set<number>();
    if (threshold) windows.add(threshold.within);
    for (const step of pb.playbook.respond) if (step.when?.repeat !== undefined) windows.add(repeatWindow(step, pb));
    const counts: Record<number, number> = {};
    for (const w of windows) counts[w] = await state.hit(countKey(pb.name, ip, w), w, now, alert.id);
    const hit: PlaybookHit = { playbook: pb.name, counts, fired: false };
    out.hits.push(hit);
    const because = [...m.conditions];
    if (threshold) {
      const c = counts[threshold.within] ?? 0;
      if (c < threshold.count) continue;
      because.push(`${c} matching alerts within ${fmt(threshold.within)} (threshold ${threshold.count})`);
    }
    hit.fired = true;
    for (const step of pb.playbook.respond) {
      const esc: string[] = [];
      const when = step.when;
      if (when?.repeat !== undefined) {
        const w = repeatWindow(step, pb);
        const c = counts[w] ?? 0;
        if (c < when.repeat) continue;
        esc.push(`${ordinal(c)} match for this device within ${fmt(w)} (repeat ${when.repeat})`);
      }
      if (when?.minScore !== undefined) {
        if (!(alert.score >= when.minScore)) continue;
        esc.push(`score ${alert.score} ≥ ${when.minScore}`);
      }
      if (when?.deviceContained !== undefined) {
        const c = await isContained();
        if (c !== when.deviceContained) continue;
        esc.push(c ? 'the device is already contained' : 'the device is not contained yet');
      }
      const mod = actionModules[step.action];
      let params: Record<string, unknown>;
      try {
        params = mod.resolveParams(step.params, alert) as Record<string, unknown>;
      } catch (err) {
        out.skipped.push({ playbook: pb.name, action: step.action, reason: (err as Error).message });
        continue;
      }
      let approval = step.approval;
      let approvalWhy = approval === 'auto' ? 'Automatic per playbook' : 'Operator approval required per playbook';
      if (approval === 'required' && step.autoMinScore !== undefined && alert.score >= step.autoMinScore) {
        approval = 'auto';
        approvalWhy = `Automatic because score ${alert.score} ≥ autoMinScore ${step.autoMinScore}`;
      }
      const reason = `Playbook "${pb.name}" matched alert "${cleanText(alert.name)}" (${alert.source}, score ${alert.score}) on ${ip}: ${because.join('; ')}`
        + (esc.length ? `. Escalation: ${esc.join('; ')}` : '')
        + `. ${approvalWhy}.`;
      out.requests.push({
        playbook: pb.name,
        action: step.action,
        params,
        target,
        ttlMs: step.ttl ?? mod.defaultTtlMs,
        approval,
        reason,
        alertIds: [alert.id],
        escalation: when !== undefined,
      });
    }
  }
  out.requests = mergeSame(out.requests);
  return out;
}

/** Two steps asking for the same containment on one alert become one request (auto wins, longest TTL, both reasons). */
function mergeSame(requests: ActionRequest[]): ActionRequest[] {
  const byKey = new Map<string, ActionRequest>();
  for (const r of requests) {
    const k = paramsKey(r.action, r.params);
    const prev = byKey.get(k);
    if (!prev) {
      byKey.set(k, r);
      continue;
    }
    byKey.set(k, {
      ...prev,
      approval: prev.approval === 'auto' || r.approval === 'auto' ? 'auto' : 'required',
      ttlMs: Math.max(prev.ttlMs, r.ttlMs),
      reason: `${prev.reason} Also: ${r.reason}`,
      escalation: prev.escalation || r.escalation,
    });
  }
  return [...byKey.values()];
}

/** The action requests for one alert. `now` is epoch ms: the wall clock in production, the alert's time in replay. */
export async function evaluate(alert: AlertView, playbooks: readonly CompiledPlaybook[], state: DecideState, now: number): Promise<ActionRequest[]> {
  return (await evaluateDetailed(alert, playbooks, state, now)).requests;
}
