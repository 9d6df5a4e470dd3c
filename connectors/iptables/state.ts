// Reads sheriff's sets back from `ipset save` text and turns their entries into receipts (for list and revert).
import { ActionId, type ActionName, type Receipt } from '../../src/contracts/action.js';
import { parseCidr, parseHostIp } from '../../src/contracts/net.js';
import { fixedSets, parseGroupSetName, type Family, type FixedKind, type GroupRef, type Names } from './sets.js';

export interface Entry {
  set: string;
  element: string;
  timeout: number | null;
  comment: string | null;
}

export interface Saved {
  sets: Set<string>;
  entries: Map<string, Entry[]>;
}

const addRe = /^add (\S+) (\S+)(?: timeout (\d+))?(?: comment "([^"]*)")?/;

/** Parses `ipset save` output, keeping only sets named with our prefix. */
export function parseSave(text: string, prefix: string): Saved {
  const sets = new Set<string>();
  const entries = new Map<string, Entry[]>();
  const ours = `${prefix}-`;
  for (const line of text.split('\n')) {
    if (line.startsWith('create ')) {
      const name = line.split(' ')[1] ?? '';
      if (name.startsWith(ours)) { sets.add(name); entries.set(name, []); }
      continue;
    }
    const m = addRe.exec(line);
    if (!m || !(m[1] as string).startsWith(ours)) continue;
    const e: Entry = { set: m[1] as string, element: m[2] as string, timeout: m[3] === undefined ? null : Number(m[3]), comment: m[4] ?? null };
    entries.get(e.set)?.push(e);
  }
  return { sets, entries };
}

export function receiptKey(action: ActionName, device: string, actionId: string): string {
  return `${action}|${device}|${actionId}`;
}

const host = (t: string): string | null => { const r = parseHostIp(t); return 'error' in r ? null : r.ip; };
const net = (t: string): string | null => { const r = parseCidr(t); return 'error' in r ? null : r.cidr; };
const protoPort = (t: string): { protocol: 'tcp' | 'udp'; port: number } | null => {
  const m = /^(tcp|udp):(\d{1,5})$/.exec(t);
  return m && Number(m[2]) >= 1 && Number(m[2]) <= 65535 ? { protocol: m[1] as 'tcp' | 'udp', port: Number(m[2]) } : null;
};
/** ipset prints "ip,proto:port,net"; an IPv6 address never contains ',' so splitting on it is safe. */
const parts = (el: string): string[] => el.split(',');

interface Found { action: ActionName; device: string; actionId: string; params: Record<string, unknown>; timeout: number | null; entries: Entry[] }

/** Every sheriff entry that carries a valid action id, grouped into one receipt per (action, device, action id). */
export function receiptsFromSaved(saved: Saved, names: Names, connector: string, margin: number, now: number): Receipt[] {
  const found = new Map<string, Found>();
  const add = (action: ActionName, device: string, e: Entry, params: Record<string, unknown>, merge?: (f: Found) => void) => {
    if (!e.comment || !ActionId.safeParse(e.comment).success) return; // not ours to describe (a hand-made entry)
    const key = receiptKey(action, device, e.comment);
    const f = found.get(key);
    if (f) { f.entries.push(e); merge?.(f); return; }
    found.set(key, { action, device, actionId: e.comment, params, timeout: e.timeout, entries: [e] });
  };
  for (const f of [4, 6] as Family[]) {
    for (const kind of Object.keys(fixedSets) as FixedKind[]) {
      for (const e of saved.entries.get(names.fixed(kind, f)) ?? []) {
        const p = parts(e.element);
        if (kind === 'ssh') {
          const ip = host(p[0] ?? ''); const pp = protoPort(p[1] ?? '');
          if (ip && pp) add('block-ssh-egress', ip, e, { ports: [pp.port] }, (x) => { (x.params.ports as number[]).push(pp.port); (x.params.ports as number[]).sort((a, b) => a - b); });
        } else if (kind === 'bedp') {
          const ip = host(p[0] ?? ''); const pp = protoPort(p[1] ?? ''); const n = net(p[2] ?? '');
          if (ip && pp && n) add('block-endpoint', ip, e, { ip: n, port: pp.port, protocol: pp.protocol, scope: 'device' });
        } else if (kind === 'beap') {
          const n = net(p[0] ?? ''); const pp = protoPort(p[1] ?? '');
          if (n && pp) add('block-endpoint', '*', e, { ip: n, port: pp.port, protocol: pp.protocol, scope: 'all' });
        } else {
          const n = net(p[0] ?? '');
          if (n) add('block-endpoint', '*', e, { ip: n, protocol: 'tcp', scope: 'all' });
        }
      }
    }
  }
  for (const set of saved.sets) {
    const g: GroupRef | null = parseGroupSetName(names, set);
    if (!g) continue;
    const data = g.data ? (saved.entries.get(g.data) ?? []).map((d) => net(d.element)).filter((x): x is string => x !== null).sort() : [];
    for (const e of saved.entries.get(set) ?? []) {
      const ip = host(e.element);
      if (!ip) continue;
      if (g.kind === 'rl') add('rate-limit-new-ports', ip, e, { perMinute: g.perMinute, burst: g.burst });
      else if (g.kind === 'q') add('quarantine-device', ip, e, { allow: data });
      else if (data[0]) add('block-endpoint', ip, e, { ip: data[0], protocol: 'tcp', scope: 'device' });
    }
  }
  return [...found.entries()].map(([key, f]) => ({
    connector,
    actionId: f.actionId,
    action: f.action,
    key,
    status: 'enforced' as const,
    detail: `${f.entries.length} entr${f.entries.length === 1 ? 'y' : 'ies'} in ${[...new Set(f.entries.map((e) => e.set))].join(', ')}`,
    expiresAt: f.timeout ? now + Math.max(0, f.timeout - margin) * 1000 : null,
    data: { device: f.device, params: f.params, entries: f.entries.map((e) => `${e.set} ${e.element}`) },
  }));
}
