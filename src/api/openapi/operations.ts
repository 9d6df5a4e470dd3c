// What the document says about each known route: summary, request schemas (from the route files), response, errors.
import { z } from 'zod';
import { SourceName } from '../../contracts/alert.js';
import { Extend, IdParam, ListQuery as ActionListQuery, ManualAction, Reason } from '../routes/actions.js';
import { ListQuery as AlertListQuery } from '../routes/alerts.js';
import { AuditQuery, KillBody, ModeBody } from '../routes/control.js';
import type { ResponseName } from './responses.js';

export interface Operation {
  summary: string;
  tag: 'actions' | 'control' | 'alerts' | 'ingest' | 'ops' | 'docs';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success status and body; `text` for non-JSON answers. */
  status?: number;
  response?: ResponseName | { text: string; description: string };
  /** Error codes besides the operator-auth ones (401/403 are added for guarded routes). */
  errors?: number[];
  /** Webhook auth (HMAC signature or source token) instead of operator tokens. */
  sourceAuth?: boolean;
}

const AlertId = z.object({ id: z.string().max(80) });
const Source = z.object({ source: SourceName });

/** Keyed by `METHOD <fastify path>`; routes missing here are still listed, with a generic description. */
export const operations: Record<string, Operation> = {
  'GET /healthz': { summary: 'Liveness: the process answers', tag: 'ops', response: 'Health' },
  'GET /readyz': { summary: 'Readiness: Redis reachable and workers running (503 with reasons otherwise)', tag: 'ops', response: 'Ready', errors: [503] },
  'GET /metrics': { summary: 'Prometheus metrics', tag: 'ops', response: { text: 'text/plain', description: 'Prometheus text exposition format' } },
  'POST /v1/alerts/:source': {
    summary: 'Detector webhook: a single alert, an array, or newline-delimited JSON; 202 only once durably queued',
    tag: 'ingest', params: Source, sourceAuth: true, status: 202, response: 'IngestAccepted', errors: [400, 401, 404, 413, 415, 503],
    body: z.unknown().meta({ description: "The detector's own JSON payload (application/json or application/x-ndjson)" }),
  },
  'GET /v1/alerts': { summary: 'Stored normalised alerts, newest first', tag: 'alerts', query: AlertListQuery, response: 'AlertList', errors: [400] },
  'GET /v1/alerts/:id': { summary: 'One normalised alert with its raw payload', tag: 'alerts', params: AlertId, response: 'Alert', errors: [404] },
  'GET /v1/actions': { summary: 'List actions (filters: state, device, action, since)', tag: 'actions', query: ActionListQuery, response: 'ActionList', errors: [400] },
  'GET /v1/actions/:id': { summary: 'One action record with connectors and history', tag: 'actions', params: IdParam, response: 'ActionRecord', errors: [400, 404] },
  'POST /v1/actions': {
    summary: 'Manual action; passes the same guards as playbook actions (201 created, 200 when a live one was extended)',
    tag: 'actions', body: ManualAction, status: 201, response: 'ManualActionResult', errors: [400, 409],
  },
  'POST /v1/actions/:id/approve': { summary: 'Approve a pending action', tag: 'actions', params: IdParam, body: Reason, response: 'ActionRecord', errors: [400, 404, 409] },
  'POST /v1/actions/:id/deny': { summary: 'Deny a pending action', tag: 'actions', params: IdParam, body: Reason, response: 'ActionRecord', errors: [400, 404, 409] },
  'POST /v1/actions/:id/revert': { summary: 'Revert an action (lifts the containment)', tag: 'actions', params: IdParam, body: Reason, response: 'ActionRecord', errors: [400, 404, 409] },
  'POST /v1/actions/:id/extend': { summary: 'Extend a live action (capped by ttl.max)', tag: 'actions', params: IdParam, body: Extend, response: 'ActionRecord', errors: [400, 404, 409] },
  'GET /v1/mode': { summary: 'Current mode', tag: 'control', response: 'Mode' },
  'PUT /v1/mode': { summary: 'Switch passive/active', tag: 'control', body: ModeBody, response: 'Mode', errors: [400] },
  'POST /v1/kill-switch': { summary: 'Mode → passive and revert every applied containment', tag: 'control', body: KillBody, response: 'KillSwitchResult', errors: [400] },
  'GET /v1/audit': { summary: 'Audit log, newest first', tag: 'control', query: AuditQuery, response: 'AuditList', errors: [400] },
  'GET /v1/audit/verify': { summary: 'Verify the audit hash chain', tag: 'control', response: 'AuditVerify' },
  'GET /v1/playbooks': { summary: 'Loaded playbooks', tag: 'control', response: 'Playbooks' },
  'GET /v1/connectors': { summary: 'Configured connectors, their capabilities and health', tag: 'control', response: 'Connectors' },
  'GET /docs/openapi.json': { summary: 'This OpenAPI document', tag: 'docs', response: { text: 'application/json', description: 'OpenAPI 3.1 document' } },
  'GET /docs': { summary: 'A small page listing the operations of the OpenAPI document', tag: 'docs', response: { text: 'text/html', description: 'HTML page' } },
};
