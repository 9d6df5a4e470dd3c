// Applies and reverts one action on every responsible connector, recording each connector's result.
import { EnforcementStep, type ActionRecord, type ConnectorStatus, type Receipt } from '../contracts/action.js';
import { ConnectorError, NotResponsibleError, SheriffError, isRetryable } from '../errors.js';
import type { AuditInput, AuditLog } from '../ledger/audit.js';
import { setConnectorStatus, type Ledger } from '../ledger/store.js';
import type { Logger } from '../log.js';
import type { ConfiguredConnector, ConnectorRegistry } from './registry.js';

export interface EnforcerDeps {
  ledger: Ledger;
  audit: AuditLog;
  registry: ConnectorRegistry;
  log: Logger;
  plan: (record: ActionRecord, expiresAt: number) => EnforcementStep[];
  scheduleExpiry: (id: string, expiresAt: number) => Promise<void>;
  onEvent?: (event: 'enforced' | 'failed' | 'reverted' | 'expired', record: ActionRecord) => void;
}

/** Thrown when some connector failed in a way a retry can fix; the queue backs off and tries again. */
export class RetryLater extends SheriffError {
  constructor(message: string, retryAt?: number) {
    super('CONNECTOR_UNAVAILABLE', message, { retryable: true, ...(retryAt ? { retryAt } : {}) });
  }
}

const now = () => new Date().toISOString();

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Enforcer {
  constructor(private readonly d: EnforcerDeps) {}

  /**
   * Enforces (or, for an active action, refreshes the expiry of) an action on every responsible connector.
   * `lastAttempt`: retryable failures become `failed` instead of a retry.
   */
  async apply(id: string, by: string, lastAttempt = false, refreshActive = true): Promise<ActionRecord> {
    const current = await this.d.ledger.mustGet(id);
    if (!['approved', 'failed', 'enforcing', 'active'].includes(current.state)) return current;
    // An apply job that finished but died before BullMQ recorded it runs again: already active means done.
    if (current.state === 'active' && !refreshActive) {
      // The crash may have come between `active` and scheduling the expiry: schedule it (idempotent, same time).
      if (current.expiresAt) await this.d.scheduleExpiry(id, Date.parse(current.expiresAt));
      return current;
    }
    const refresh = current.state === 'active';
    const expiresAt = current.expiresAt ? Date.parse(current.expiresAt) : Date.now() + current.ttlMs;
    let record = current;
    if (!refresh && current.state !== 'enforcing') {
      record = (await this.d.ledger.update(id, (r) => ({
        ...r,
        state: 'enforcing',
        expiresAt: new Date(expiresAt).toISOString(),
        history: [...r.history, { at: now(), state: 'enforcing', by, note: 'applying on connectors' }],
      }))).after;
    }
    const responsible = this.d.registry.responsible(record.target.ip, record.action);
    if (!responsible.length) {
      return this.finish(id, 'failed', by, `no configured connector covers ${record.target.ip} with ${record.action}`, []);
    }
    const steps = this.d.plan(record, expiresAt);
    const results = await Promise.all(responsible.map((c) => this.applyOn(c, steps)));
    const statuses = results.map((r) => r.status);
    const audits: AuditInput[] = results.map((r) => ({
      type: 'connector.apply', by, actionId: id,
      data: { connector: r.status.name, status: r.status.status, detail: r.status.detail },
    }));
    await this.d.audit.append(audits);
    const retryable = results.filter((r) => r.retryable);
    if (retryable.length && !lastAttempt) {
      await this.saveStatuses(id, statuses);
      const retryAt = Math.max(0, ...retryable.map((r) => r.retryAt ?? 0));
      throw new RetryLater(retryable.map((r) => `${r.status.name}: ${r.status.detail}`).join('; '), retryAt || undefined);
    }
    // Out of attempts: a connector still failing with a retryable error has failed.
    for (const r of retryable) r.status.status = 'failed';
    const failed = statuses.filter((s) => s.status === 'failed');
    const enforced = statuses.filter((s) => ['enforced', 'partial', 'pending'].includes(s.status));
    if (failed.length || !enforced.length) {
      const why = failed.length
        ? failed.map((s) => `${s.name}: ${s.detail}`).join('; ')
        : `no connector knows ${record.target.ip} (${statuses.map((s) => `${s.name}: ${s.detail}`).join('; ')})`;
      if (enforced.length) await this.revertReceipts(id, statuses, by);
      return this.finish(id, 'failed', by, why, statuses);
    }
    const partial = statuses.filter((s) => s.status === 'partial');
    const note = refresh ? 'expiry refreshed on connectors'
      : partial.length ? `enforced, but PARTIAL on ${partial.map((s) => `${s.name} (${s.detail})`).join(', ')}`
        : `enforced on ${enforced.map((s) => s.name).join(', ')}`;
    const after = await this.finish(id, 'active', by, note, statuses);
    await this.d.scheduleExpiry(id, expiresAt);
    return after;
  }

  private async applyOn(c: ConfiguredConnector, steps: EnforcementStep[]): Promise<{ status: ConnectorStatus; retryable: boolean; retryAt?: number }> {
    const base = { name: c.name, type: c.type };
    try {
      let last: Receipt | undefined;
      for (const step of steps) last = await c.connector.apply(EnforcementStep.parse(step));
      if (!last) throw new ConnectorError(c.name, 'CONNECTOR_REJECTED', 'the action planned no steps');
      return { status: { ...base, status: last.status, detail: last.detail, receipt: last }, retryable: false };
    } catch (err) {
      if (err instanceof NotResponsibleError) return { status: { ...base, status: 'not_responsible', detail: err.message }, retryable: false };
      const retryable = isRetryable(err);
      this.d.log.warn({ connector: c.name, err: describeError(err), retryable }, 'connector apply failed');
      return {
        status: { ...base, status: retryable ? 'pending' : 'failed', detail: describeError(err) },
        retryable,
        ...(err instanceof SheriffError && err.retryAt ? { retryAt: err.retryAt } : {}),
      };
    }
  }

  private async saveStatuses(id: string, statuses: ConnectorStatus[]): Promise<void> {
    await this.d.ledger.update(id, (r) => {
      for (const s of statuses) setConnectorStatus(r, s);
      return r;
    });
  }

  private async finish(id: string, state: 'active' | 'failed', by: string, note: string, statuses: ConnectorStatus[]): Promise<ActionRecord> {
    let raced = false;
    const { after, before } = await this.d.ledger.update(id, (r) => {
      if (r.state !== 'enforcing' && r.state !== 'active') {
        // Reverted (or killed) while we were applying: what we just applied must not outlive the ledger's say.
        raced = true;
        return null;
      }
      for (const s of statuses) setConnectorStatus(r, s);
      const entry = { at: now(), state, by, note };
      if (r.state === 'active' && state === 'active') return { ...r, history: [...r.history, entry] };
      return { ...r, state, ...(state === 'active' ? { enforcedAt: now() } : {}), history: [...r.history, entry] };
    });
    if (raced) {
      const { errors } = await this.revertReceipts(id, statuses, by);
      if (errors.length) this.d.log.error({ actionId: id, errors }, 'lifting what an apply raced with a revert failed; reconcile will remove it');
      return after;
    }
    if (before.state !== after.state) {
      await this.d.audit.append([{ type: state === 'active' ? 'action.enforced' : 'action.failed', by, actionId: id, data: { note } }]);
      this.d.onEvent?.(state === 'active' ? 'enforced' : 'failed', after);
    }
    return after;
  }

  private async revertReceipts(id: string, statuses: ConnectorStatus[], by: string): Promise<{ errors: string[]; retryable: boolean }> {
    const errors: string[] = [];
    let retryable = false;
    for (const s of statuses) {
      if (!s.receipt || s.status === 'reverted') continue;
      const c = this.d.registry.get(s.name);
      if (!c) {
        errors.push(`${s.name}: connector no longer configured; remove its enforcement by hand`);
        continue;
      }
      try {
        await c.connector.revert(s.receipt);
        s.status = 'reverted';
        s.detail = 'lifted';
      } catch (err) {
        errors.push(`${s.name}: ${describeError(err)}`);
        retryable ||= isRetryable(err);
      }
    }
    await this.d.audit.append(statuses.filter((s) => s.receipt).map((s) => ({
      type: 'connector.revert', by, actionId: id, data: { connector: s.name, status: s.status, detail: s.detail },
    })));
    return { errors, retryable };
  }

  /**
   * A connector may hold one entry for what two live actions share (iptables: one set entry per device and SSH port,
   * or per endpoint for `scope: all`), so lifting one action lifts the other's share. Re-apply the other live actions
   * that can share with this one on the connectors just reverted (apply is idempotent); a failure is left to reconcile.
   */
  private async reapplySharing(record: ActionRecord, connectors: string[], by: string): Promise<void> {
    if (!connectors.length) return;
    const everyDevice = record.action === 'block-endpoint' && record.params.scope === 'all';
    const { items } = await this.d.ledger.list(everyDevice
      ? { state: 'active', action: record.action, limit: 1000 }
      : { device: record.target.ip, state: 'active', action: record.action, limit: 1000 });
    const siblings = items.filter((r) => r.id !== record.id && (!everyDevice || (r.params.scope === 'all' && r.params.ip === record.params.ip)));
    for (const sib of siblings) {
      const expiresAt = sib.expiresAt ? Date.parse(sib.expiresAt) : Date.now() + sib.ttlMs;
      if (expiresAt <= Date.now()) continue; // its own expiry is due
      for (const s of sib.connectors) {
        const c = this.d.registry.get(s.name);
        if (!c || !connectors.includes(s.name) || !s.receipt || !['enforced', 'partial'].includes(s.status)) continue;
        try {
          for (const step of this.d.plan(sib, expiresAt)) await c.connector.apply(EnforcementStep.parse(step));
          // The sibling may have started its own revert meanwhile (kill switch, expiry): then its delete may already
          // have run, and what we just re-added would outlive it. Its state moves to reverting before it deletes.
          if ((await this.d.ledger.get(sib.id))?.state !== 'active') {
            await c.connector.revert(s.receipt);
            continue;
          }
          await this.d.audit.append([{ type: 'connector.reapply', by, actionId: sib.id, data: { connector: s.name, why: `shares enforcement with reverted ${record.id}` } }]);
        } catch (err) {
          this.d.log.warn({ connector: s.name, actionId: sib.id, err: describeError(err) }, 're-apply after a sibling revert failed; reconcile will retry');
        }
      }
    }
  }

  /** Lifts an action everywhere it was applied and ends it as `reverted` or `expired`. */
  async revert(id: string, by: string, note: string, final: 'reverted' | 'expired', lastAttempt = false): Promise<ActionRecord> {
    let record = await this.d.ledger.mustGet(id);
    if (record.state === 'simulated' || record.state === 'approved' || record.state === 'pending_approval') {
      const to = record.state === 'pending_approval' ? 'expired' : final;
      const { after } = await this.d.ledger.update(id, (r) => ({ ...r, state: to, history: [...r.history, { at: now(), state: to, by, note }] }));
      await this.d.audit.append([{ type: `action.${to}`, by, actionId: id, data: { note } }]);
      this.d.onEvent?.(to === 'expired' ? 'expired' : 'reverted', after);
      return after;
    }
    if (!['active', 'enforcing', 'failed', 'reverting'].includes(record.state)) return record;
    if (record.state !== 'reverting') {
      record = (await this.d.ledger.update(id, (r) => ({ ...r, state: 'reverting', history: [...r.history, { at: now(), state: 'reverting', by, note }] }))).after;
    }
    const statuses = structuredClone(record.connectors);
    const { errors, retryable } = await this.revertReceipts(id, statuses, by);
    if (errors.length && retryable && !lastAttempt) {
      await this.saveStatuses(id, statuses);
      throw new RetryLater(errors.join('; '));
    }
    if (!errors.length) await this.reapplySharing(record, statuses.filter((s) => s.status === 'reverted').map((s) => s.name), by);
    const to = errors.length ? 'failed' : final;
    const why = errors.length ? `revert failed: ${errors.join('; ')}` : note;
    const { after } = await this.d.ledger.update(id, (r) => {
      for (const s of statuses) setConnectorStatus(r, s);
      return { ...r, state: to, history: [...r.history, { at: now(), state: to, by, note: why }] };
    });
    await this.d.audit.append([{ type: `action.${to}`, by, actionId: id, data: { note: why } }]);
    this.d.onEvent?.(to === 'failed' ? 'failed' : to, after);
    return after;
  }
}
