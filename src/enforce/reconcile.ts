// Reconcile: make every enforcement point agree with the ledger (restore what it lost, remove what nobody owns).
import type { Redis } from 'ioredis';
import type { ActionRecord, EnforcementStep, Receipt } from '../contracts/action.js';
import type { AuditLog } from '../ledger/audit.js';
import { setConnectorStatus, type Ledger } from '../ledger/store.js';
import type { Logger } from '../log.js';
import type { ConfiguredConnector, ConnectorRegistry } from './registry.js';

export interface ReconcileDeps {
  ledger: Ledger;
  audit: AuditLog;
  registry: ConnectorRegistry;
  log: Logger;
  redis: Redis;
  plan: (record: ActionRecord, expiresAt: number) => EnforcementStep[];
}

export interface ReconcileReport {
  connector: string;
  restored: string[];
  removed: string[];
  errors: string[];
}

export class Reconciler {
  constructor(private readonly d: ReconcileDeps) {}

  /** One process at a time (a Redis lock), so two sheriff processes never fight over an entry. */
  async run(by = 'reconcile'): Promise<ReconcileReport[] | null> {
    const lockKey = `${this.d.ledger.prefix}:lock:reconcile`;
    const token = `${process.pid}-${Date.now()}`;
    if ((await this.d.redis.set(lockKey, token, 'PX', 120_000, 'NX')) !== 'OK') return null;
    try {
      const reports: ReconcileReport[] = [];
      for (const c of this.d.registry.all) reports.push(await this.one(c, by));
      return reports;
    } finally {
      if ((await this.d.redis.get(lockKey)) === token) await this.d.redis.del(lockKey);
    }
  }

  private async one(c: ConfiguredConnector, by: string): Promise<ReconcileReport> {
    const report: ReconcileReport = { connector: c.name, restored: [], removed: [], errors: [] };
    let listed: Receipt[];
    try {
      listed = await c.connector.list();
    } catch (err) {
      report.errors.push(`list: ${(err as Error).message}`);
      return report;
    }
    // The ledger is read after the connector: an entry listed above belongs to an action that is by now either
    // still in flight or active with its receipt recorded (the enforcer applies first, then records). Read before
    // the list, an action that became active in between looked unowned and its entry was removed (crash test).
    const active = await this.d.ledger.getMany(await this.d.ledger.idsInState('active'));
    const listedKeys = new Set(listed.map((r) => r.key));
    const wanted = new Map<string, ActionRecord>();
    for (const a of active) {
      for (const s of a.connectors) {
        if (s.name === c.name && s.receipt && (s.status === 'enforced' || s.status === 'partial')) wanted.set(s.receipt.key, a);
      }
    }
    const now = Date.now();
    for (const [key, action] of wanted) {
      if (listedKeys.has(key)) continue;
      const expiresAt = action.expiresAt ? Date.parse(action.expiresAt) : now + action.ttlMs;
      if (expiresAt <= now) continue; // the expiry job lifts it
      try {
        let receipt: Receipt | undefined;
        for (const step of this.d.plan(action, expiresAt)) receipt = await c.connector.apply(step);
        // Expired or reverted while we restored it: take it away again rather than leave an entry nobody owns.
        const now2 = await this.d.ledger.get(action.id);
        if (!now2 || now2.state !== 'active') {
          if (receipt) await c.connector.revert(receipt);
          continue;
        }
        report.restored.push(key);
        if (receipt) {
          const r = receipt;
          await this.d.ledger.update(action.id, (x) => {
            setConnectorStatus(x, { name: c.name, type: c.type, status: r.status, detail: `restored by reconcile: ${r.detail}`, receipt: r });
            return x;
          });
        }
        await this.d.audit.append([{ type: 'reconcile.restored', by, actionId: action.id, data: { connector: c.name, key } }]);
      } catch (err) {
        report.errors.push(`restore ${key}: ${(err as Error).message}`);
      }
    }
    // Read again: an action may have become active since `active` was read (its entry is then owned, not stray).
    const owners = new Map((await this.d.ledger.getMany([...new Set(listed.map((r) => r.actionId))])).map((r) => [r.id, r]));
    const owned = (r: Receipt): boolean => {
      const o = owners.get(r.actionId);
      if (!o) return false;
      if (['enforcing', 'reverting', 'approved'].includes(o.state)) return true; // in flight: the enforce worker decides
      return o.state === 'active' && o.connectors.some((s) => s.name === c.name && s.receipt?.key === r.key);
    };
    for (const r of listed) {
      if (wanted.has(r.key) || owned(r)) continue;
      try {
        await c.connector.revert(r);
        report.removed.push(r.key);
        await this.d.audit.append([{ type: 'reconcile.removed', by, actionId: r.actionId, data: { connector: c.name, key: r.key, why: 'enforced at the connector but unknown to the ledger' } }]);
      } catch (err) {
        report.errors.push(`remove ${r.key}: ${(err as Error).message}`);
      }
    }
    if (report.restored.length || report.removed.length || report.errors.length) this.d.log.info(report, 'reconcile');
    return report;
  }
}
