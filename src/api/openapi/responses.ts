// Response schemas for the OpenAPI document, built from src/contracts and the stores' shapes.
import { z } from 'zod';
import { ActionRecord } from '../../contracts/action.js';
import { NormalisedAlert } from '../../contracts/alert.js';
import { errorCatalogue } from '../../errors.js';
import { AuditEntry } from '../../ledger/audit.js';

export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorCatalogue) as [keyof typeof errorCatalogue, ...Array<keyof typeof errorCatalogue>]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
}).meta({ description: 'Every error: a stable code from the catalogue, a message, optional details (e.g. zod issues).' });

const page = <T extends z.ZodType>(item: T, cursor: z.ZodType = z.string().nullable()) => z.object({ items: z.array(item), next: cursor });

export const responseSchemas = {
  Error: ErrorBody,
  ActionRecord,
  ActionList: page(ActionRecord),
  ManualActionResult: ActionRecord.extend({ decision: z.enum(['create', 'extend', 'uncovered']) }),
  Mode: z.object({ mode: z.enum(['passive', 'active']) }),
  KillSwitchResult: z.object({ mode: z.literal('passive'), reverted: z.number().int() }),
  AuditList: page(AuditEntry),
  AuditVerify: z.object({
    ok: z.boolean(),
    entries: z.number().int(),
    problems: z.array(z.object({ seq: z.number().int().nullable(), index: z.number().int(), problem: z.string() })),
  }),
  Playbooks: z.object({ items: z.array(z.record(z.string(), z.unknown())) }),
  Connectors: z.object({
    items: z.array(z.object({
      name: z.string(), type: z.string(), capabilities: z.array(z.string()), scope: z.array(z.string()).nullable().optional(),
      health: z.object({ ok: z.boolean(), detail: z.string().optional() }).passthrough(),
    })),
  }),
  Alert: NormalisedAlert,
  AlertList: page(NormalisedAlert),
  IngestAccepted: z.object({
    ids: z.array(z.string()),
    accepted: z.array(z.object({ id: z.string(), duplicate: z.boolean() }).passthrough()),
    refused: z.array(z.object({ index: z.number().int().optional(), reason: z.string() }).passthrough()),
  }),
  Health: z.object({ ok: z.literal(true) }),
  Ready: z.object({ ready: z.boolean(), reasons: z.array(z.string()).optional() }),
} as const;
export type ResponseName = keyof typeof responseSchemas;
