// Prometheus Alertmanager webhook (version 4): one notification carries many alerts; labels name the device.
import { z } from 'zod';
import { parseHostIp } from '../contracts/net.js';
import {
  alertId, checkName, cleanHostname, contentKey, finish, refuse, schemaRefusal, toIso, type Normaliser, type Outcome,
  cleanTags,
} from './common.js';

export const defaultDeviceLabels = ['device_ip', 'ip', 'instance'] as const;

const Labels = z.record(z.string(), z.string());
const AmAlert = z.object({
  status: z.string().optional(),
  labels: Labels,
  annotations: z.record(z.string(), z.unknown()).optional(),
  startsAt: z.string().optional(),
  fingerprint: z.string().max(200).optional(),
});
const Notification = z.object({
  version: z.string().optional(),
  alerts: z.array(z.unknown()).max(10_000),
});

const severities: Record<string, number> = {
  critical: 0.9, high: 0.75, error: 0.75, major: 0.75, warning: 0.6, medium: 0.5, minor: 0.4, low: 0.3, info: 0.2, none: 0.1,
};
export const alertmanagerScore = (severity: string | undefined) => severities[(severity ?? '').toLowerCase()] ?? 0.5;

/**
 * A label value as a device address: a bare IP, `host:port`, `[v6]:port` or a URL — the host part counts
 * only when it is an IP (a hostname would need a DNS lookup we refuse to trust).
 */
export function addressFromLabel(value: string): string | undefined {
  const v = value.trim().slice(0, 300);
  const direct = parseHostIp(v);
  if (!('error' in direct)) return direct.ip;
  let host: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try { host = new URL(v).hostname; } catch { return undefined; }
  } else {
    host = /^\[([0-9a-fA-F:.]+)\]:\d{1,5}$/.exec(v)?.[1] ?? /^([0-9.]+):\d{1,5}$/.exec(v)?.[1];
  }
  if (!host) return undefined;
  const r = parseHostIp(host.replace(/^\[|\]$/g, ''));
  return 'error' in r ? undefined : r.ip;
}

function one(raw: unknown, deviceLabels: readonly string[], receivedAt: string): Outcome {
  const p = AmAlert.safeParse(raw);
  if (!p.success) return schemaRefusal('Alertmanager alert', p.error);
  const a = p.data;
  if (a.status === 'resolved') return refuse('a resolved alert is not a detection; nothing to act on');
  const named = checkName(a.labels.alertname);
  if ('error' in named) return refuse(named.error);
  let ip: string | undefined;
  for (const label of deviceLabels) {
    const value = a.labels[label];
    if (value === undefined) continue;
    ip = addressFromLabel(value);
    if (ip) break;
  }
  if (!ip) return refuse(`no usable device: none of the labels ${deviceLabels.join(', ')} holds an IP address`);
  const hostname = cleanHostname(a.labels.hostname ?? a.labels.nodename);
  const stable = a.fingerprint ? `${a.fingerprint}|${a.startsAt ?? ''}` : `${contentKey(a.labels)}|${a.startsAt ?? ''}`;
  return finish({
    id: alertId('alertmanager', stable),
    source: 'alertmanager',
    name: named.name,
    score: alertmanagerScore(a.labels.severity),
    detectedAt: toIso(a.startsAt, receivedAt),
    receivedAt,
    device: { ip, ...(hostname ? { hostname } : {}), tags: labelTags(a.labels) },
    raw,
  });
}

/** Labels become `name=value` device tags (playbooks match e.g. `sheriff_action=block-ssh-egress`); odd ones are dropped. */
export function labelTags(labels: Record<string, string>): string[] {
  return cleanTags(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`));
}

export const normaliseAlertmanager: Normaliser = (item, ctx) => {
  const n = Notification.safeParse(item);
  if (!n.success) return [schemaRefusal('Alertmanager notification', n.error)];
  if (n.data.version !== undefined && n.data.version !== '4') return [refuse(`Alertmanager webhook version ${n.data.version.slice(0, 10)} is not supported (expected 4)`)];
  if (n.data.alerts.length === 0) return [refuse('the notification carries no alerts')];
  return n.data.alerts.map((a) => one(a, ctx.deviceLabels, ctx.receivedAt));
};
