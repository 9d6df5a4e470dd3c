// The control service: turns requests into ledger records and queue jobs; every operator operation goes through here.
import type { ActionRecord, ConnectorStatus, EnforcementStep } from '../contracts/action.js';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';
import type { AuditLog } from '../ledger/audit.js';
import { liveStates } from '../ledger/state-machine.js';
import { actionIdFor, newActionId, type Ledger } from '../ledger/store.js';
import type { Logger } from '../log.js';
import type { Queues } from '../queue/queues.js';
import type { ConnectorRegistry } from '../enforce/registry.js';
import type { ActionRequest } from '../decide/types.js';
import type { GuardDecision } from './types.js';

export type Mode = 'passive' | 'active';
export type ActionEvent = 'approval_needed' | 'enforced' | 'failed' | 'expired' | 'reverted' | 'kill_switch' | 'mode';

export interface ServiceDeps {
  ledger: Ledger;
  audit: AuditLog;
  queues: Queues;
  registry: ConnectorRegistry;
  config: Pick<Config, 'mode' | 'ttl' | 'approval'>;
  log: Logger;
  guard: (req: ActionRequest) => Promise<GuardDecision>;
  plan: (record: ActionRecord, expiresAt: number) => EnforcementStep[];
  notify?: (event: ActionEvent, record: ActionRecord | null, extra?: Record<string, unknown>) => void;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A repeated alert moves a live action's expiry only when it gains at least this much (or 1/20 of the TTL):
 * otherwise an alert storm rewrites the expiry job, the audit log and every connector once per alert.
 */
export const EXTEND_STEP_MS = 60_000;

export class ActionService {
  constructor(private readonly d: ServiceDeps) {}

  async initMode(): Promise<Mode> {
    const m = await this.d.ledger.getMode();
    if (m) return m;
    await this.d.ledger.setMode(this.d.config.mode);
    return this.d.config.mode;
  }

  async getMode(): Promise<Mode> {
    return (await this.d.ledger.getMode()) ?? this.d.config.mode;
  }

  async setMode(mode: Mode, by: string, reason: string): Promise<Mode> {
    const before = await this.getMode();
    await this.d.ledger.setMode(mode);
    await this.d.audit.append([{ type: 'mode.set', by, data: { from: before, to: mode, reason } }]);
    if (before !== mode) this.d.notify?.('mode', null, { from: before, to: mode, by, reason });
    return mode;
  }

  /** Playbook and manual requests alike: guards, then a record, then a job. */
  async request(req: ActionRequest, by: string): Promise<{ decision: GuardDecision; record: ActionRecord | null }> {
    const decision = await this.d.guard(req);
    const auditBase = { by, data: { playbook: req.playbook, action: req.action, device: req.target.ip, alertIds: req.alertIds, reason: req.reason } };
    if (decision.outcome === 'protected') {
      await this.d.audit.append([{ type: 'decision.protected', ...auditBase, data: { ...auditBase.data, why: decision.reason } }]);
      return { decision, record: null };
    }
    if (decision.outcome === 'extend') {
      const record = await this.extendLive(decision.actionId, decision.ttlMs, req.alertIds, by, decision.reason, decision.current);
      if (record) {
        // A crash between recording an auto action and queueing it leaves it approved: queue it (the job id dedupes).
        if (record.state === 'approved') await this.d.queues.enqueueApply(record.id, by, 'auto');
        return { decision, record };
      }
    }
    const now = Date.now();
    const mode = await this.getMode();
    const uncovered = decision.outcome === 'uncovered';
    const create = decision.outcome === 'create' ? decision : { mode: 'auto' as const, ttlMs: req.ttlMs, reasons: [] };
    const state = uncovered ? 'failed' : mode === 'passive' ? 'simulated' : create.mode === 'auto' ? 'approved' : 'pending_approval';
    const id = req.idempotencyKey
      ? actionIdFor(req.idempotencyKey, { playbook: req.playbook, action: req.action, ip: req.target.ip, params: req.params })
      : newActionId();
    const reason = [req.reason, ...create.reasons, ...(uncovered ? [decision.reason] : [])].join('; ');
    const expiresAt = now + create.ttlMs;
    const record: ActionRecord = {
      id,
      action: req.action,
      params: req.params,
      target: req.target,
      state,
      mode: create.mode,
      playbook: req.playbook,
      alertIds: req.alertIds,
      reason,
      ttlMs: create.ttlMs,
      createdAt: iso(now),
      ...(state === 'simulated' ? { expiresAt: iso(expiresAt) } : {}),
      connectors: state === 'simulated' ? this.simulate(id, req, expiresAt) : [],
      history: [{
        at: iso(now), state, by,
        note: uncovered ? decision.reason
          : state === 'simulated' ? `passive mode: would ${create.mode === 'auto' ? 'enforce' : 'ask for approval and then enforce'}`
            : state === 'approved' ? (req.playbook ? `auto-approved by playbook ${req.playbook}` : 'manual action, no approval required')
              : 'waiting for an operator',
      }],
    };
    const created = await this.d.ledger.create(record, { auto: state === 'approved' });
    if (!created.created) {
      const existing = await this.extendLive(created.id, create.ttlMs, req.alertIds, by, 'same action already live');
      if (existing?.state === 'approved') await this.d.queues.enqueueApply(existing.id, by, 'auto');
      return { decision: { outcome: 'extend', actionId: created.id, reason: 'same action already live', ttlMs: create.ttlMs }, record: existing };
    }
    await this.d.audit.append([{ type: `decision.${state}`, ...auditBase, actionId: id, data: { ...auditBase.data, mode: create.mode, ttlMs: create.ttlMs, why: reason } }]);
    if (state === 'approved') await this.d.queues.enqueueApply(id, by, 'auto');
    if (state === 'simulated') await this.d.queues.scheduleExpiry(id, expiresAt);
    if (state === 'failed') this.d.notify?.('failed', record); // no connector covers the device: someone must know
    if (state === 'pending_approval') {
      await this.d.queues.scheduleExpiry(id, now + this.d.config.approval.ttl, 'approval');
      this.d.notify?.('approval_needed', record);
    }
    return { decision, record };
  }

  /** What passive mode would have done, per responsible connector. */
  private simulate(id: string, req: ActionRequest, expiresAt: number): ConnectorStatus[] {
    const responsible = this.d.registry.responsible(req.target.ip, req.action);
    const fake = { id, action: req.action, params: req.params, target: req.target } as ActionRecord;
    const steps = this.d.plan(fake, expiresAt);
    return responsible.map((c) => ({ name: c.name, type: c.type, status: 'simulated', detail: `would apply ${JSON.stringify(steps.map((s) => ({ action: s.action, device: s.device.ip, params: s.params })))}` }));
  }

  private async extendLive(id: string, ttlMs: number, alertIds: string[], by: string, why: string, current?: string): Promise<ActionRecord | null> {
    const until = Date.now() + Math.min(ttlMs, this.d.config.ttl.max);
    let moved = false;
    try {
      // A patch (compare-and-set) rather than a WATCH transaction: under an alert storm this runs once per alert.
      const { after } = await this.d.ledger.patch(id, (r) => {
        if (!liveStates.includes(r.state)) return null;
        const newIds = alertIds.filter((a) => !r.alertIds.includes(a));
        // The same alert again (a re-run decide job): it was already counted, so it extends nothing.
        if (alertIds.length && !newIds.length) return null;
        const current = r.expiresAt ? Date.parse(r.expiresAt) : 0;
        moved = r.expiresAt !== undefined && until >= current + Math.min(EXTEND_STEP_MS, ttlMs / 20);
        if (!moved && !newIds.length) return null;
        return {
          ...r,
          alertIds: [...r.alertIds, ...newIds].slice(-200),
          ...(moved ? { expiresAt: iso(until) } : {}),
          history: moved ? [...r.history, { at: iso(Date.now()), state: r.state, by, note: `extended to ${iso(until)} (${why})` }] : r.history,
        };
      }, current);
      if (!liveStates.includes(after.state)) return null;
      if (moved) await this.afterExpiryMoved(after, by);
      return after;
    } catch (err) {
      if (err instanceof SheriffError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  private async afterExpiryMoved(r: ActionRecord, by: string): Promise<void> {
    if (!r.expiresAt) return;
    await this.d.audit.append([{ type: 'action.extended', by, actionId: r.id, data: { expiresAt: r.expiresAt } }]);
    if (r.state === 'active' || r.state === 'simulated') await this.d.queues.scheduleExpiry(r.id, Date.parse(r.expiresAt));
    if (r.state === 'active') await this.d.queues.enqueueApply(r.id, by, 'refresh expiry', true);
  }

  async approve(id: string, by: string, reason: string): Promise<ActionRecord> {
    const mode = await this.getMode();
    const to = mode === 'active' ? 'approved' : 'simulated';
    const now = Date.now();
    const { after } = await this.d.ledger.update(id, (r) => {
      if (r.state !== 'pending_approval') throw new SheriffError('CONFLICT', `action is ${r.state}, not pending_approval`, { details: { state: r.state } });
      return {
        ...r, state: to,
        ...(to === 'simulated' ? { expiresAt: iso(now + r.ttlMs) } : {}),
        history: [...r.history, { at: iso(now), state: to, by, note: to === 'simulated' ? `approved in passive mode: ${reason}` : reason }],
      };
    });
    await this.d.audit.append([{ type: 'action.approved', by, actionId: id, data: { reason, mode } }]);
    if (to === 'approved') await this.d.queues.enqueueApply(id, by, reason);
    else await this.d.queues.scheduleExpiry(id, now + after.ttlMs);
    return after;
  }

  async deny(id: string, by: string, reason: string): Promise<ActionRecord> {
    const { after } = await this.d.ledger.update(id, (r) => {
      if (r.state !== 'pending_approval') throw new SheriffError('CONFLICT', `action is ${r.state}, not pending_approval`, { details: { state: r.state } });
      return { ...r, state: 'denied', history: [...r.history, { at: iso(Date.now()), state: 'denied', by, note: reason }] };
    });
    await this.d.audit.append([{ type: 'action.denied', by, actionId: id, data: { reason } }]);
    return after;
  }

  async revert(id: string, by: string, reason: string): Promise<ActionRecord> {
    const r = await this.d.ledger.mustGet(id);
    if (['expired', 'reverted', 'denied'].includes(r.state)) {
      throw new SheriffError('CONFLICT', `action is already ${r.state}`, { details: { state: r.state } });
    }
    if (['active', 'enforcing', 'failed'].includes(r.state)) {
      const { after } = await this.d.ledger.update(id, (x) => (x.state === 'reverting' ? null
        : { ...x, state: 'reverting', history: [...x.history, { at: iso(Date.now()), state: 'reverting', by, note: reason }] }));
      await this.d.audit.append([{ type: 'action.revert-requested', by, actionId: id, data: { reason } }]);
      await this.d.queues.enqueueRevert(id, by, reason, 'reverted');
      return after;
    }
    if (r.state === 'reverting') return r;
    // pending_approval, approved, simulated: nothing was applied anywhere.
    const to = 'reverted' as const;
    if (r.state === 'pending_approval') return this.deny(id, by, reason);
    const { after } = await this.d.ledger.update(id, (x) => ({ ...x, state: to, history: [...x.history, { at: iso(Date.now()), state: to, by, note: reason }] }));
    await this.d.audit.append([{ type: 'action.reverted', by, actionId: id, data: { reason } }]);
    return after;
  }

  async extend(id: string, ttlMs: number, by: string, reason: string): Promise<ActionRecord> {
    const capped = Math.min(ttlMs, this.d.config.ttl.max);
    const until = Date.now() + capped;
    const { after } = await this.d.ledger.update(id, (r) => {
      if (!liveStates.includes(r.state)) throw new SheriffError('CONFLICT', `action is ${r.state}; only live actions can be extended`, { details: { state: r.state } });
      return {
        ...r, ttlMs: capped,
        ...(r.expiresAt || r.state === 'active' ? { expiresAt: iso(until) } : {}),
        history: [...r.history, { at: iso(Date.now()), state: r.state, by, note: `extended by ${Math.round(capped / 1000)} s to ${iso(until)}${capped < ttlMs ? ' (capped by ttl.max)' : ''}: ${reason}` }],
      };
    });
    await this.afterExpiryMoved(after, by);
    return after;
  }

  /** Mode → passive and every applied containment reverted; audited with who and why. */
  async killSwitch(by: string, reason: string): Promise<{ reverted: number }> {
    await this.setMode('passive', by, `kill switch: ${reason}`);
    let count = 0;
    for (const state of ['active', 'enforcing', 'approved', 'failed'] as const) {
      for (const id of await this.d.ledger.idsInState(state)) {
        try {
          await this.revert(id, by, `kill switch: ${reason}`);
          count++;
        } catch (err) {
          if (!(err instanceof SheriffError && err.code === 'CONFLICT')) throw err;
        }
      }
    }
    await this.d.audit.append([{ type: 'kill-switch', by, data: { reason, reverted: count } }]);
    this.d.notify?.('kill_switch', null, { by, reason, reverted: count });
    return { reverted: count };
  }
}
