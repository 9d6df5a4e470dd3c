// Darktrace: model breaches (API/webhook shape, score 0..1) and the flattened push shape (score 0..100).
import { z } from 'zod';
import {
  alertId, checkName, clamp01, cleanHostname, cleanMac, cleanPort, cleanTags, deviceIp, finish, peerIp, refuse,
  schemaRefusal, toIso, type Normaliser, type Outcome,
} from './common.js';

const Filter = z.object({
  filterType: z.string().optional(),
  trigger: z.object({ value: z.unknown() }).partial().optional(),
}).partial();

const ModelBreach = z.object({
  pbid: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]),
  time: z.number().optional(),
  creationTime: z.number().optional(),
  score: z.number(),
  model: z.object({
    name: z.string().optional(),
    now: z.object({ name: z.string().optional(), tags: z.array(z.unknown()).optional() }).partial().optional(),
    then: z.object({ name: z.string().optional(), tags: z.array(z.unknown()).optional() }).partial().optional(),
  }),
  triggeredComponents: z.array(z.object({ triggeredFilters: z.array(Filter).optional() }).partial()).optional(),
  device: z.object({
    did: z.union([z.number(), z.string()]).optional(),
    ip: z.string().optional(),
    ips: z.array(z.object({ ip: z.string().optional() }).partial()).optional(),
    hostname: z.string().optional(),
    macaddress: z.string().optional(),
  }),
});

const Push = z.object({
  modelName: z.string(),
  score: z.number(),
  pbid: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).optional(),
  uuid: z.string().max(200).optional(),
  breachTime: z.union([z.number(), z.string()]).optional(),
  SourceIP: z.string().optional(),
  deviceIp: z.string().optional(),
  deviceHostname: z.string().optional(),
  hostname: z.string().optional(),
  destIP: z.string().optional(),
  destPort: z.union([z.number(), z.string()]).optional(),
  destHostname: z.string().optional(),
});

/** Peer endpoint from the filters that triggered the breach; the first value of each kind wins. */
function peerFromFilters(components: z.infer<typeof ModelBreach>['triggeredComponents']) {
  const peer: { ip?: string; port?: number; hostname?: string } = {};
  let lookup: string | undefined;
  for (const c of components ?? []) {
    for (const f of c.triggeredFilters ?? []) {
      const value = f.trigger?.value;
      switch (f.filterType) {
        case 'Destination IP': peer.ip ??= peerIp(value); break;
        case 'Destination port': peer.port ??= cleanPort(value); break;
        case 'Connection hostname':
        case 'Destination hostname': peer.hostname ??= cleanHostname(value); break;
        // A DNS lookup names the peer only when nothing better does.
        case 'DNS host lookup': lookup ??= cleanHostname(value); break;
      }
    }
  }
  if (!peer.hostname && lookup) peer.hostname = lookup;
  const defined = Object.fromEntries(Object.entries(peer).filter(([, v]) => v !== undefined));
  return Object.keys(defined).length ? defined : undefined;
}

// pbid identifies the breach in both shapes, so the same breach delivered both ways is one alert.
const breachKey = (pbid: number | string) => `pbid:${pbid}`;

function fromModelBreach(b: z.infer<typeof ModelBreach>, raw: unknown, receivedAt: string): Outcome {
  const named = checkName(b.model.now?.name ?? b.model.then?.name ?? b.model.name);
  if ('error' in named) return refuse(named.error);
  const ipField = b.device.ip ?? b.device.ips?.find((e) => typeof e.ip === 'string')?.ip;
  const ip = deviceIp(ipField, 'device.ip');
  if ('error' in ip) return refuse(`no usable device: ${ip.error}`);
  const hostname = cleanHostname(b.device.hostname);
  const mac = cleanMac(b.device.macaddress);
  const peer = peerFromFilters(b.triggeredComponents);
  return finish({
    id: alertId('darktrace', breachKey(b.pbid)),
    source: 'darktrace',
    name: named.name,
    score: clamp01(b.score),
    detectedAt: toIso(b.time ?? b.creationTime, receivedAt),
    receivedAt,
    device: {
      ip: ip.ip,
      ...(hostname ? { hostname } : {}),
      ...(mac ? { mac } : {}),
      ...(b.device.did !== undefined ? { id: String(b.device.did).slice(0, 128) } : {}),
      tags: cleanTags(b.model.now?.tags ?? b.model.then?.tags),
    },
    ...(peer ? { peer } : {}),
    raw,
  });
}

function fromPush(p: z.infer<typeof Push>, raw: unknown, receivedAt: string): Outcome {
  const named = checkName(p.modelName);
  if ('error' in named) return refuse(named.error);
  const ip = deviceIp(p.deviceIp ?? p.SourceIP, 'deviceIp/SourceIP');
  if ('error' in ip) return refuse(`no usable device: ${ip.error}`);
  const key = p.pbid !== undefined ? breachKey(p.pbid) : p.uuid !== undefined ? `uuid:${p.uuid}` : undefined;
  if (!key) return refuse('the breach has neither pbid nor uuid, so re-deliveries could not be recognised');
  const hostname = cleanHostname(p.deviceHostname ?? p.hostname);
  const peer = { ip: peerIp(p.destIP), port: cleanPort(p.destPort), hostname: cleanHostname(p.destHostname) };
  const peerOut = Object.fromEntries(Object.entries(peer).filter(([, v]) => v !== undefined));
  return finish({
    id: alertId('darktrace', key),
    source: 'darktrace',
    name: named.name,
    score: clamp01(p.score / 100),
    detectedAt: toIso(p.breachTime, receivedAt),
    receivedAt,
    device: { ip: ip.ip, ...(hostname ? { hostname } : {}), tags: [] },
    ...(Object.keys(peerOut).length ? { peer: peerOut } : {}),
    raw,
  });
}

export const normaliseDarktrace: Normaliser = (item, ctx) => {
  if (item && typeof item === 'object' && 'modelName' in item) {
    const p = Push.safeParse(item);
    return [p.success ? fromPush(p.data, item, ctx.receivedAt) : schemaRefusal('Darktrace push alert', p.error)];
  }
  const b = ModelBreach.safeParse(item);
  return [b.success ? fromModelBreach(b.data, item, ctx.receivedAt) : schemaRefusal('Darktrace model breach', b.error)];
};
