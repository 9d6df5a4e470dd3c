// Falco events as forwarded by falcosidekick's webhook output.
import { z } from 'zod';
import {
  alertId, checkName, cleanHostname, cleanTags, contentKey, deviceIp, finish, pickSides, refuse, schemaRefusal, toIso,
  type Normaliser,
} from './common.js';

const FalcoEvent = z.object({
  uuid: z.string().max(200).optional(),
  rule: z.string(),
  priority: z.string().optional(),
  time: z.string().optional(),
  hostname: z.string().optional(),
  output: z.string().optional(),
  tags: z.array(z.unknown()).optional(),
  output_fields: z.record(z.string(), z.unknown()).optional(),
});

const priorities: Record<string, number> = {
  emergency: 1, alert: 0.95, critical: 0.9, error: 0.75, warning: 0.6, notice: 0.4, informational: 0.2, info: 0.2, debug: 0.1,
};

export function falcoScore(priority: string | undefined): number {
  return priorities[(priority ?? '').toLowerCase()] ?? 0.5;
}

export const normaliseFalco: Normaliser = (item, ctx) => {
  const p = FalcoEvent.safeParse(item);
  if (!p.success) return [schemaRefusal('falcosidekick event', p.error)];
  const e = p.data;
  const named = checkName(e.rule);
  if ('error' in named) return [refuse(named.error)];
  const f = e.output_fields ?? {};
  // fd.lip is always the watched host/container's own end; otherwise the internal side of client/server.
  let device: { ip: string };
  let peer: { ip: string; port?: number } | undefined;
  const lip = f['fd.lip'] !== undefined ? deviceIp(f['fd.lip'], 'fd.lip') : undefined;
  if (lip && 'ip' in lip) {
    device = lip;
    const sides = pickSides({ ip: f['fd.lip'], port: f['fd.lport'] }, { ip: f['fd.rip'], port: f['fd.rport'] }, { contains: () => true });
    if (!('error' in sides) && sides.peer) peer = sides.peer;
  } else if (f['fd.cip'] !== undefined || f['fd.sip'] !== undefined) {
    const sides = pickSides({ ip: f['fd.cip'], port: f['fd.cport'] }, { ip: f['fd.sip'], port: f['fd.sport'] }, ctx.internal);
    if ('error' in sides) return [refuse(sides.error)];
    device = sides.device;
    peer = sides.peer;
  } else {
    const pod = f['k8s.pod.ip'] !== undefined ? deviceIp(f['k8s.pod.ip'], 'k8s.pod.ip') : undefined;
    if (!pod) return [refuse('no usable device: the event carries none of fd.lip, fd.cip/fd.sip, k8s.pod.ip')];
    if ('error' in pod) return [refuse(`no usable device: ${pod.error}`)];
    device = pod;
  }
  const hostname = cleanHostname(f['k8s.pod.name']) ?? cleanHostname(e.hostname);
  const stable = e.uuid ? `uuid:${e.uuid}` : contentKey({ rule: e.rule, time: e.time, output: e.output, hostname: e.hostname, fields: f });
  return [finish({
    id: alertId('falco', stable),
    source: 'falco',
    name: named.name,
    score: falcoScore(e.priority),
    detectedAt: toIso(e.time, ctx.receivedAt),
    receivedAt: ctx.receivedAt,
    device: { ip: device.ip, ...(hostname ? { hostname } : {}), tags: cleanTags(e.tags) },
    ...(peer ? { peer: { ip: peer.ip, ...(peer.port !== undefined ? { port: peer.port } : {}) } } : {}),
    raw: item,
  })];
};
