// Offline replay: recorded alerts through evaluate + guards with memory state and a simulated ledger; the alerts' times are the clock.
import { z } from 'zod';
import type { AlertView } from '../contracts/action-module.js';
import { NormalisedAlert, type SourceName } from '../contracts/alert.js';
import type { Config } from '../config.js';
import type { CompiledPlaybook } from '../playbooks/match.js';
import { evaluateDetailed } from './evaluate.js';
import { createGuards, paramsKey } from './guards.js';
import { MemoryDecideState } from './memory-state.js';
import { connectorInfos, type ActionRequest } from './types.js';

export type Normaliser = (source: SourceName, payload: unknown) => NormalisedAlert[];

export interface ReplayOptions {
  playbooks: readonly CompiledPlaybook[];
  config: Config;
  /** Lines are the detector's own payloads for this source (needs `normalise`); otherwise normalised alerts. */
  source?: SourceName;
  normalise?: Normaliser;
}

type AlertSummary = Pick<NormalisedAlert, 'id' | 'source' | 'name' | 'score' | 'device' | 'peer'>;

export type ReplayEvent =
  | { at: string; kind: 'alert'; line: number; alert: AlertSummary; duplicate?: true }
  | {
    at: string; kind: 'decision'; alertId: string; playbook: string | null; action: string; params: Record<string, unknown>;
    target: ActionRequest['target']; outcome: 'enforce' | 'pending_approval' | 'extend' | 'protected' | 'uncovered';
    actionId?: string; escalation: boolean; reason: string; notes: string[]; connectors: string[]; expiresAt?: string;
  }
  | { at: string; kind: 'skipped'; alertId: string; playbook: string; action?: string; reason: string }
  | { at: string; kind: 'expire'; actionId: string; action: string; target: ActionRequest['target']; reason: string }
  | { at: string; kind: 'error'; line: number; message: string };

interface SimAction {
  id: string;
  action: string;
  key: string;
  target: ActionRequest['target'];
  state: 'active' | 'pending_approval';
  createdAt: number;
  /** For active: the TTL end; for pending: when the approval request lapses. */
  until: number;
}

const HOUR = 3_600_000;

/** A recorded alert may lack `raw` (the alerts queue carries none). */
const ReplayAlert = NormalisedAlert.omit({ raw: true }).extend({ raw: z.unknown().optional() });

function parseLines(lines: readonly string[], opts: ReplayOptions, events: ReplayEvent[]): { alert: AlertView; line: number; t: number }[] {
  const out: { alert: AlertView; line: number; t: number }[] = [];
  lines.forEach((text, i) => {
    const line = i + 1;
    if (!text.trim()) return;
    const err = (message: string) => events.push({ at: '', kind: 'error', line, message });
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      err('not JSON');
      return;
    }
    let candidates: unknown[];
    if (opts.source) {
      if (!opts.normalise) {
        err(`no normaliser for --source ${opts.source} is wired into this build`);
        return;
      }
      try {
        candidates = opts.normalise(opts.source, payload);
      } catch (e) {
        err(`the ${opts.source} normaliser refused it: ${(e as Error).message}`);
        return;
      }
    } else candidates = [payload];
    for (const c of candidates) {
      const r = ReplayAlert.safeParse(c);
      if (!r.success) {
        err(`not a normalised alert: ${r.error.issues.slice(0, 3).map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`);
        continue;
      }
      const t = Date.parse(r.data.detectedAt);
      if (Number.isNaN(t)) {
        err(`detectedAt "${r.data.detectedAt.slice(0, 40)}" is not a timestamp`);
        continue;
      }
      out.push({ alert: r.data, line, t });
    }
  });
  // Stable sort: equal timestamps keep file order, so the replay is deterministic.
  return out.sort((a, b) => a.t - b.t);
}

export async function replay(lines: readonly string[], opts: ReplayOptions): Promise<ReplayEvent[]> {
  const events: ReplayEvent[] = [];
  const alerts = parseLines(lines, opts, events);
  const { config } = opts;
  const ledger = new Map<string, SimAction>();
  const created: number[] = [];
  let seq = 0;
  const iso = (t: number) => new Date(t).toISOString();
  const state = new MemoryDecideState((ip) => [...ledger.values()].some((a) => a.state === 'active' && a.target.ip === ip));
  const guards = createGuards({ protected: config.protected, limits: config.limits, ttl: config.ttl, connectors: connectorInfos(config) });

  const expireUntil = (t: number) => {
    const due = [...ledger.values()].filter((a) => a.until <= t).sort((a, b) => a.until - b.until || a.id.localeCompare(b.id));
    for (const a of due) {
      ledger.delete(a.id);
      events.push({
        at: iso(a.until), kind: 'expire', actionId: a.id, action: a.action, target: a.target,
        reason: a.state === 'active' ? 'TTL ran out: would be reverted' : 'approval request lapsed unanswered (approval.ttl)',
      });
    }
  };

  const seen = new Set<string>();
  for (const { alert, line, t } of alerts) {
    expireUntil(t);
    const summary = { id: alert.id, source: alert.source, name: alert.name, score: alert.score, device: alert.device, ...(alert.peer ? { peer: alert.peer } : {}) };
    // Ingest drops a re-delivered alert (same id); so does the replay, visibly.
    if (seen.has(alert.id)) {
      events.push({ at: iso(t), kind: 'alert', line, alert: summary, duplicate: true });
      continue;
    }
    seen.add(alert.id);
    events.push({ at: iso(t), kind: 'alert', line, alert: summary });
    const outcome = await evaluateDetailed(alert, opts.playbooks, state, t);
    for (const s of outcome.skipped) events.push({ at: iso(t), kind: 'skipped', alertId: alert.id, ...s });
    for (const request of outcome.requests) {
      const key = paramsKey(request.action, request.params);
      const base = { at: iso(t), kind: 'decision' as const, alertId: alert.id, playbook: request.playbook, action: request.action, params: request.params, target: request.target, escalation: request.escalation };
      const g = await guards.apply(request, {
        findLive: (ip, action, k) => [...ledger.values()].find((a) => a.target.ip === ip && a.action === action && a.key === k) ?? null,
        newInLastHour: created.filter((c) => c > t - HOUR).length,
        activeCount: [...ledger.values()].filter((a) => a.state === 'active').length,
      });
      if (g.outcome === 'protected' || g.outcome === 'uncovered') {
        events.push({ ...base, outcome: g.outcome, reason: `${request.reason} ${g.reason}.`, notes: [], connectors: [] });
        continue;
      }
      if (g.outcome === 'extend') {
        const live = ledger.get(g.actionId);
        const notes: string[] = [];
        if (live?.state === 'active') {
          const ttl = Math.min(request.ttlMs, config.ttl.max);
          if (t + ttl > live.until) {
            live.until = t + ttl;
            notes.push(`expiry moved to ${iso(live.until)}`);
          } else notes.push('already lasts longer; unchanged');
        } else notes.push('still awaiting approval');
        events.push({ ...base, outcome: 'extend', actionId: g.actionId, reason: request.reason, notes, connectors: [], ...(live?.state === 'active' ? { expiresAt: iso(live.until) } : {}) });
        continue;
      }
      const id = `a-replay${String(++seq).padStart(4, '0')}`;
      const auto = g.request.approval === 'auto';
      const until = auto ? t + g.request.ttlMs : t + config.approval.ttl;
      ledger.set(id, { id, action: request.action, key, target: request.target, state: auto ? 'active' : 'pending_approval', createdAt: t, until });
      created.push(t);
      events.push({
        ...base, outcome: auto ? 'enforce' : 'pending_approval', actionId: id, reason: request.reason, notes: g.notes,
        connectors: g.connectors, ...(auto ? { expiresAt: iso(until) } : {}),
      });
    }
  }
  expireUntil(Number.POSITIVE_INFINITY);
  return events;
}
