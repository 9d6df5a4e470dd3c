// The generic source: a documented minimal JSON any script can send (see docs/ingest.md).
import { z } from 'zod';
import {
  alertId, checkName, cleanHostname, cleanMac, cleanTags, deviceIp, finish, peerIp, refuse, schemaRefusal, toIso,
  type Normaliser,
} from './common.js';

export const GenericAlert = z.object({
  id: z.string().min(1).max(200),
  name: z.string(),
  score: z.number().min(0).max(1),
  device: z.object({
    ip: z.string(),
    hostname: z.string().optional(),
    mac: z.string().optional(),
    tags: z.array(z.unknown()).optional(),
  }),
  peer: z.object({
    ip: z.string().optional(),
    port: z.number().int().min(0).max(65535).optional(),
    hostname: z.string().optional(),
  }).optional(),
  time: z.union([z.string(), z.number()]).optional(),
});

export const normaliseGeneric: Normaliser = (item, ctx) => {
  const p = GenericAlert.safeParse(item);
  if (!p.success) return [schemaRefusal('generic alert', p.error)];
  const g = p.data;
  const named = checkName(g.name);
  if ('error' in named) return [refuse(named.error)];
  const ip = deviceIp(g.device.ip, 'device.ip');
  if ('error' in ip) return [refuse(`no usable device: ${ip.error}`)];
  const hostname = cleanHostname(g.device.hostname);
  const mac = cleanMac(g.device.mac);
  const peer = { ip: peerIp(g.peer?.ip), port: g.peer?.port, hostname: cleanHostname(g.peer?.hostname) };
  const peerOut = Object.fromEntries(Object.entries(peer).filter(([, v]) => v !== undefined));
  return [finish({
    id: alertId('generic', `id:${g.id}`),
    source: 'generic',
    name: named.name,
    score: g.score,
    detectedAt: toIso(g.time, ctx.receivedAt),
    receivedAt: ctx.receivedAt,
    device: { ip: ip.ip, ...(hostname ? { hostname } : {}), ...(mac ? { mac } : {}), tags: cleanTags(g.device.tags) },
    ...(Object.keys(peerOut).length ? { peer: peerOut } : {}),
    raw: item,
  })];
};
