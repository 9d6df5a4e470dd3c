// The decide step for one alert: playbooks → requests → the control service (guards, ledger, queue).
import type { AlertJob } from '../queue/names.js';
import type { AuditLog } from '../ledger/audit.js';
import type { Logger } from '../log.js';
import { evaluateDetailed } from '../decide/evaluate.js';
import type { DecideState } from '../decide/types.js';
import type { CompiledPlaybook } from '../playbooks/match.js';
import type { ActionService } from './service.js';

export interface DeciderDeps {
  service: ActionService;
  audit: AuditLog;
  log: Logger;
  state: DecideState;
  playbooks: () => readonly CompiledPlaybook[];
}

export class Decider {
  constructor(private readonly d: DeciderDeps) {}

  async decide(job: AlertJob): Promise<{ requests: number }> {
    const alert = job.alert;
    // Thresholds count in the alert's own time when it is sane, so a late re-delivery does not inflate the count.
    const detected = Date.parse(alert.detectedAt);
    const now = Number.isFinite(detected) && Math.abs(Date.now() - detected) < 3_600_000 ? detected : Date.now();
    const outcome = await evaluateDetailed(alert, this.d.playbooks(), this.d.state, now);
    // A job re-run after a crash repeats this method: the entry is written once, the requests below are idempotent.
    await this.d.audit.append([{
      type: 'alert.accepted', by: `detector:${alert.source}`, once: `alert:${alert.id}@${alert.receivedAt}`,
      data: {
        alertId: alert.id, name: alert.name, score: alert.score, device: alert.device.ip,
        matched: outcome.hits.filter((h) => h.fired).map((h) => h.playbook),
        skipped: outcome.skipped.map((s) => `${s.playbook}${s.action ? `/${s.action}` : ''}: ${s.reason}`),
      },
    }]);
    for (const req of outcome.requests) {
      await this.d.service.request({ ...req, idempotencyKey: `${alert.id}@${alert.receivedAt}` }, `playbook:${req.playbook ?? 'manual'}`);
    }
    return { requests: outcome.requests.length };
  }
}
