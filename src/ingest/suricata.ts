// Suricata EVE JSON (event_type "alert"): the device is the internal side of the flow.
import { z } from 'zod';
import {
  alertId, checkName, cleanHostname, finish, peerIp, pickSides, refuse, schemaRefusal, toIso, type Normaliser,
} from './common.js';

const Endpoint = z.object({ ip: z.string().optional(), port: z.unknown() }).partial();

const EveAlert = z.object({
  event_type: z.string(),
  timestamp: z.string().optional(),
  flow_id: z.union([z.number(), z.string()]).optional(),
  src_ip: z.string().optional(),
  src_port: z.unknown().optional(),
  dest_ip: z.string().optional(),
  dest_port: z.unknown().optional(),
  alert: z.object({
    signature: z.string(),
    signature_id: z.number().optional(),
    severity: z.number().optional(),
    // Present when the rule uses `target`; it then says which side is the attacker.
    source: Endpoint.optional(),
    target: Endpoint.optional(),
  }),
  http: z.object({ hostname: z.unknown() }).partial().optional(),
  tls: z.object({ sni: z.unknown() }).partial().optional(),
  dns: z.object({ rrname: z.unknown().optional(), query: z.array(z.object({ rrname: z.unknown() }).partial()).optional() }).partial().optional(),
});

/** Severity 1 is the most severe; rules may use larger numbers, which all count as low. */
export function suricataScore(severity: number | undefined): number {
  switch (severity) {
    case 1: return 0.9;
    case 2: return 0.6;
    case 3: return 0.3;
    default: return severity === undefined ? 0.5 : 0.1;
  }
}

export const normaliseSuricata: Normaliser = (item, ctx) => {
  const p = EveAlert.safeParse(item);
  if (!p.success) return [schemaRefusal('Suricata EVE alert', p.error)];
  const e = p.data;
  if (e.event_type !== 'alert') return [refuse(`event_type "${e.event_type.slice(0, 40)}" is not an alert`)];
  const named = checkName(e.alert.signature);
  if ('error' in named) return [refuse(named.error)];
  const src = e.alert.source?.ip !== undefined ? e.alert.source : { ip: e.src_ip, port: e.src_port };
  const dst = e.alert.target?.ip !== undefined ? e.alert.target : { ip: e.dest_ip, port: e.dest_port };
  const sides = pickSides(src, dst, ctx.internal);
  if ('error' in sides) return [refuse(sides.error)];
  // The application hostname belongs to the server side; it describes the peer only when the peer is that side.
  const peerIsServer = sides.peer !== undefined && sides.peer.ip === peerIp(dst.ip);
  const hostname = peerIsServer
    ? cleanHostname(e.http?.hostname) ?? cleanHostname(e.tls?.sni) ?? cleanHostname(e.dns?.query?.[0]?.rrname ?? e.dns?.rrname)
    : undefined;
  const peer = sides.peer ? { ...sides.peer, ...(hostname ? { hostname } : {}) } : undefined;
  const stable = `${e.flow_id ?? ''}|${e.alert.signature_id ?? named.name}|${e.timestamp ?? ''}|${sides.device.ip}`;
  return [finish({
    id: alertId('suricata', stable),
    source: 'suricata',
    name: named.name,
    score: suricataScore(e.alert.severity),
    detectedAt: toIso(e.timestamp, ctx.receivedAt),
    receivedAt: ctx.receivedAt,
    device: { ip: sides.device.ip, tags: [] },
    ...(peer ? { peer } : {}),
    raw: item,
  })];
};
