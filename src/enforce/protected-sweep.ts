// Live actions on assets that are now protected are lifted (adding an asset to `protected` must not leave it contained).
import type { ActionRecord } from '../contracts/action.js';
import type { Guards } from '../decide/guards.js';
import type { AuditLog } from '../ledger/audit.js';
import type { Ledger } from '../ledger/store.js';
import type { Logger } from '../log.js';

export interface SweepDeps {
  ledger: Ledger;
  audit: AuditLog;
  guards: Pick<Guards, 'apply'>;
  log: Logger;
  /** Queues the revert (the enforce worker lifts it on every connector and records it). */
  revert: (id: string, note: string) => Promise<void>;
}

// CrowdSec's allowlists leave existing decisions in place (issue 3547); sheriff re-checks live actions instead.
const SWEPT_STATES = ['pending_approval', 'approved', 'enforcing', 'active', 'simulated'] as const;

/** Runs the protected-asset guard over every live action; returns the ids queued for revert. */
export async function sweepProtected(d: SweepDeps): Promise<string[]> {
  const ids = (await Promise.all(SWEPT_STATES.map((s) => d.ledger.idsInState(s)))).flat();
  const records = await d.ledger.getMany(ids);
  const swept: string[] = [];
  for (const r of records) {
    const why = await protectedReason(d.guards, r);
    if (!why) continue;
    const note = `now protected: ${why}`;
    await d.audit.append([{ type: 'protected.revert', by: 'system', actionId: r.id, data: { device: r.target.ip, action: r.action, why } }]);
    await d.revert(r.id, note);
    swept.push(r.id);
  }
  if (swept.length) d.log.warn({ count: swept.length, ids: swept }, 'reverting live actions on protected assets');
  return swept;
}

async function protectedReason(guards: Pick<Guards, 'apply'>, r: ActionRecord): Promise<string | null> {
  // The guard pipeline checks protection first, so a context that finds nothing live is enough here.
  const g = await guards.apply({
    playbook: r.playbook, action: r.action, params: r.params, target: r.target, ttlMs: r.ttlMs,
    approval: 'required', reason: r.reason, alertIds: r.alertIds, escalation: false,
  }, { findLive: () => null, newInLastHour: 0, activeCount: 0 });
  return g.outcome === 'protected' ? g.reason : null;
}
