// Operator API for actions: list, show, manual action, approve, deny, revert, extend.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ActionName, ActionState, Target } from '../../contracts/action.js';
import { duration, hostIp } from '../../contracts/net.js';
import { SheriffError } from '../../errors.js';
import type { Ledger } from '../../ledger/store.js';
import type { ActionService } from '../../control/service.js';
import type { ActionRequest } from '../../decide/types.js';
import type { OperatorAuth } from '../auth.js';
import { parse } from '../parse.js';

export interface ActionRoutesDeps {
  auth: OperatorAuth;
  ledger: Ledger;
  service: ActionService;
  /** Validates params against the action's schema (defaults applied); throws SheriffError VALIDATION. */
  resolveParams: (action: ActionName, params: Record<string, unknown>) => Record<string, unknown>;
  defaultTtlMs: (action: ActionName) => number;
}

export const ListQuery = z.object({
  state: ActionState.optional(),
  device: hostIp.optional(),
  action: ActionName.optional(),
  since: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
}).strict();

export const Reason = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) }).strict();
export const Extend = z.object({ ttl: duration, reason: z.string().max(2000).optional() }).strict();
export const ManualAction = z.object({
  action: ActionName,
  target: Target,
  params: z.record(z.string(), z.unknown()).optional(),
  ttl: duration.optional(),
  reason: z.string().trim().min(1).max(2000),
  approval: z.enum(['auto', 'required']).optional(),
}).strict();
export const IdParam = z.object({ id: z.string().regex(/^a-[a-z0-9]{8,40}$/, 'not an action id') });


export function actionRoutes(d: ActionRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    const viewer = { preHandler: d.auth.requireRole('viewer') };
    const approver = { preHandler: d.auth.requireRole('approver') };

    app.get('/v1/actions', viewer, async (req) => {
      const q = parse(ListQuery, req.query);
      return d.ledger.list({ ...q, ...(q.cursor ? { cursor: q.cursor } : {}) });
    });

    app.get('/v1/actions/:id', viewer, async (req) => d.ledger.mustGet(parse(IdParam, req.params).id));

    app.post('/v1/actions', approver, async (req, reply) => {
      const body = parse(ManualAction, req.body);
      const by = req.principal?.name ?? 'unknown';
      const request: ActionRequest = {
        playbook: null,
        action: body.action,
        params: d.resolveParams(body.action, body.params ?? {}),
        target: body.target,
        ttlMs: body.ttl ?? d.defaultTtlMs(body.action),
        approval: body.approval ?? 'auto',
        reason: `manual action by ${by}: ${body.reason}`,
        alertIds: [],
        escalation: false,
      };
      const { decision, record } = await d.service.request(request, by);
      if (decision.outcome === 'protected') throw new SheriffError('CONFLICT', `refused: ${decision.reason}`, { details: { outcome: 'protected' } });
      return reply.status(decision.outcome === 'extend' ? 200 : 201).send({ ...record, decision: decision.outcome });
    });

    app.post('/v1/actions/:id/approve', approver, async (req) =>
      d.service.approve(parse(IdParam, req.params).id, req.principal?.name ?? 'unknown', parse(Reason, req.body).reason));
    app.post('/v1/actions/:id/deny', approver, async (req) =>
      d.service.deny(parse(IdParam, req.params).id, req.principal?.name ?? 'unknown', parse(Reason, req.body).reason));
    app.post('/v1/actions/:id/revert', approver, async (req) =>
      d.service.revert(parse(IdParam, req.params).id, req.principal?.name ?? 'unknown', parse(Reason, req.body).reason));
    app.post('/v1/actions/:id/extend', approver, async (req) => {
      const body = parse(Extend, req.body);
      return d.service.extend(parse(IdParam, req.params).id, body.ttl, req.principal?.name ?? 'unknown', body.reason ?? 'extended by operator');
    });
  };
}
