// Zeek notice.log (JSON): the device is the internal side of src/dst (or id.orig_h/id.resp_h).
import { z } from 'zod';
import { alertId, checkName, finish, pickSides, refuse, schemaRefusal, toIso, type Normaliser } from './common.js';

const Notice = z.object({
  ts: z.union([z.number(), z.string()]).optional(),
  uid: z.string().max(200).optional(),
  note: z.string(),
  src: z.string().optional(),
  dst: z.string().optional(),
  p: z.unknown().optional(),
  'id.orig_h': z.string().optional(),
  'id.orig_p': z.unknown().optional(),
  'id.resp_h': z.string().optional(),
  'id.resp_p': z.unknown().optional(),
});

/** Zeek notices carry no severity; a few well-known notes get a documented score, the rest 0.5. */
const noteScores: Record<string, number> = {
  'SSH::Password_Guessing': 0.6,
  'Scan::Port_Scan': 0.5,
  'Scan::Address_Scan': 0.5,
  'SSL::Invalid_Server_Cert': 0.3,
  'Intel::Notice': 0.7,
};

export const normaliseZeek: Normaliser = (item, ctx) => {
  const p = Notice.safeParse(item);
  if (!p.success) return [schemaRefusal('Zeek notice', p.error)];
  const n = p.data;
  const named = checkName(n.note);
  if ('error' in named) return [refuse(named.error)];
  // `p` is the port of the notice's subject, the responder side when the notice has a connection.
  const src = { ip: n.src ?? n['id.orig_h'], port: n['id.orig_p'] };
  const dst = { ip: n.dst ?? n['id.resp_h'], port: n['id.resp_p'] ?? n.p };
  const sides = pickSides(src, dst, ctx.internal);
  if ('error' in sides) return [refuse(sides.error)];
  const ts = typeof n.ts === 'string' && /^\d+(\.\d+)?$/.test(n.ts) ? Number(n.ts) : n.ts;
  const stable = n.uid ? `uid:${n.uid}|${n.note}` : `${String(n.ts ?? '')}|${n.note}|${n.src ?? n['id.orig_h'] ?? ''}`;
  return [finish({
    id: alertId('zeek', stable),
    source: 'zeek',
    name: named.name,
    score: noteScores[n.note] ?? 0.5,
    detectedAt: toIso(ts, ctx.receivedAt, 's'),
    receivedAt: ctx.receivedAt,
    device: { ip: sides.device.ip, tags: [] },
    ...(sides.peer ? { peer: sides.peer } : {}),
    raw: item,
  })];
};
