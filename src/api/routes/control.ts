// Operator API for the controller as a whole: mode, kill switch, audit, playbooks, connectors.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AuditLog } from '../../ledger/audit.js';
import type { ActionService } from '../../control/service.js';
import type { OperatorAuth } from '../auth.js';
import { parse } from '../parse.js';

export interface ControlRoutesDeps {
  auth: OperatorAuth;
  service: ActionService;
  audit: AuditLog;
  playbooks: () => unknown[];
  connectors: () => Promise<unknown[]>;
}

export const ModeBody = z.object({ mode: z.enum(['passive', 'active']), reason: z.string().max(2000).optional() }).strict();
export const KillBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) }).strict();
export const AuditQuery = z.object({
  since: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/).transform(Number).optional(),
  action: z.string().max(64).optional(),
  type: z.string().max(64).optional(),
}).strict();


export function controlRoutes(d: ControlRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    const viewer = { preHandler: d.auth.requireRole('viewer') };
    const admin = { preHandler: d.auth.requireRole('admin') };

    app.get('/v1/mode', viewer, async () => ({ mode: await d.service.getMode() }));
    app.put('/v1/mode', admin, async (req) => {
      const body = parse(ModeBody, req.body);
      return { mode: await d.service.setMode(body.mode, req.principal?.name ?? 'unknown', body.reason ?? '') };
    });
    app.post('/v1/kill-switch', admin, async (req) => {
      const body = parse(KillBody, req.body);
      const r = await d.service.killSwitch(req.principal?.name ?? 'unknown', body.reason);
      return { mode: 'passive', ...r };
    });
    app.get('/v1/audit', viewer, async (req) => {
      const q = parse(AuditQuery, req.query);
      return d.audit.list({ limit: q.limit, ...(q.since !== undefined ? { since: q.since } : {}), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}), ...(q.action ? { actionId: q.action } : {}), ...(q.type ? { type: q.type } : {}) });
    });
    app.get('/v1/audit/verify', viewer, async () => d.audit.verify());
    app.get('/v1/playbooks', viewer, async () => ({ items: d.playbooks() }));
    app.get('/v1/connectors', viewer, async () => ({ items: await d.connectors() }));
  };
}
