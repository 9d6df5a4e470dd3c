// Pure planning: which ipset (and which element) expresses each step, and the names of everything sheriff owns.
import { createHash } from 'node:crypto';
import type { ActionName, ParamsOf } from '../../src/contracts/action.js';
import { parseCidr } from '../../src/contracts/net.js';

export type Family = 4 | 6;

/** Fixed sets, one per family: kind → ipset type and whether entries carry a kernel timeout + action comment. */
export const fixedSets = {
  ssh: 'hash:ip,port', // device,tcp:port
  bedp: 'hash:ip,port,net', // device,proto:port,endpoint
  beap: 'hash:net,port', // endpoint,proto:port (scope all)
  bea: 'hash:net', // endpoint (scope all, any port)
} as const;
export type FixedKind = keyof typeof fixedSets;

/** Group sets: per distinct rate limit, allow list or port-less endpoint; devices in `member`, the group's data in `data`. */
export type Group =
  | { kind: 'rl'; family: Family; perMinute: number; burst: number }
  | { kind: 'q'; family: Family; allow: string[] }
  | { kind: 'bx'; family: Family; endpoint: string };

export interface Names {
  prefix: string;
  chain: string;
  fixed(kind: FixedKind, f: Family): string;
  internal(f: Family): string;
  groupId(g: Group): string;
  member(g: Group): string;
  data(g: Group): string | null;
  hashlimitName(g: Group & { kind: 'rl' }): string;
}

function h8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

export function makeNames(prefix: string, hook: 'forward' | 'output'): Names {
  const groupId = (g: Group): string => {
    switch (g.kind) {
      case 'rl': return `rl${g.family}-${g.perMinute}-${g.burst}`;
      case 'q': return `q${g.family}-${h8(g.allow.join(' '))}`;
      case 'bx': return `bx${g.family}-${h8(g.endpoint)}`;
    }
  };
  return {
    prefix,
    chain: `${prefix.toUpperCase()}-${hook === 'forward' ? 'FWD' : 'HOST'}`,
    fixed: (kind, f) => `${prefix}-${kind}${f}`,
    internal: (f) => `${prefix}-int${f}`,
    groupId,
    member: (g) => `${prefix}-${groupId(g)}`,
    data: (g) => (g.kind === 'rl' ? null : `${prefix}-${g.kind === 'q' ? 'qa' : 'bxd'}${g.family}-${groupId(g).split('-')[1]}`),
    // xt_hashlimit names are global per netns and ≤ 15 chars; a name shared with other parameters would reuse the other table.
    hashlimitName: (g) => `sh${createHash('sha256').update(`${prefix}|${g.family}|${g.perMinute}|${g.burst}`).digest('hex').slice(0, 12)}`,
  };
}

/** What the chain rules need of a group: its sets (and, for a rate limit, its numbers). */
export interface GroupRef {
  kind: Group['kind'];
  family: Family;
  member: string;
  data: string | null;
  perMinute?: number;
  burst?: number;
  hashlimitName?: string;
}

export function groupRef(names: Names, g: Group): GroupRef {
  return {
    kind: g.kind, family: g.family, member: names.member(g), data: names.data(g),
    ...(g.kind === 'rl' ? { perMinute: g.perMinute, burst: g.burst, hashlimitName: names.hashlimitName(g) } : {}),
  };
}

/** Recognises a sheriff group member set by name (discovery at start and in list()); data sets are not members. */
export function parseGroupSetName(names: Names, name: string): GroupRef | null {
  const prefix = names.prefix;
  if (!name.startsWith(`${prefix}-`)) return null;
  const id = name.slice(prefix.length + 1);
  const rl = /^rl([46])-([1-9]\d{0,4})-([1-9]\d{0,4})$/.exec(id);
  if (rl) return groupRef(names, { kind: 'rl', family: Number(rl[1]) as Family, perMinute: Number(rl[2]), burst: Number(rl[3]) });
  const other = /^(q|bx)([46])-([0-9a-f]{8})$/.exec(id);
  if (!other) return null;
  const kind = other[1] as 'q' | 'bx';
  return { kind, family: Number(other[2]) as Family, member: name, data: `${prefix}-${kind === 'q' ? 'qa' : 'bxd'}${other[2]}-${other[3]}` };
}

export interface Planned {
  family: Family;
  set: string;
  element: string;
  group?: Group;
}

/** Canonical network text for the kernel (ipset prints a /32 or /128 network as a bare address). */
export function canonNet(text: string): string {
  const r = parseCidr(text);
  if ('error' in r) throw new Error(r.error);
  return r.cidr;
}

export function familyOfCidr(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

/**
 * The set elements one step needs. `device` is '*' for block-endpoint with scope all.
 * Throws Error(reason) for what the kernel cannot express (mixed families, /0 networks).
 */
export function plan<A extends ActionName>(names: Names, action: A, device: string, params: ParamsOf<A>): Planned[] {
  const fam = (ip: string): Family => (ip.includes(':') ? 6 : 4);
  switch (action) {
    case 'block-ssh-egress': {
      const p = params as ParamsOf<'block-ssh-egress'>;
      const f = fam(device);
      return [...new Set(p.ports)].sort((a, b) => a - b).map((port) => ({ family: f, set: names.fixed('ssh', f), element: `${device},tcp:${port}` }));
    }
    case 'block-endpoint': {
      const p = params as ParamsOf<'block-endpoint'>;
      if (!p.ip) throw new Error('block-endpoint needs the endpoint ip');
      const endpoint = canonNet(p.ip);
      const f = familyOfCidr(endpoint);
      if (endpoint.endsWith('/0')) throw new Error('refusing to block a /0 endpoint');
      if (p.scope === 'all') {
        return p.port === undefined
          ? [{ family: f, set: names.fixed('bea', f), element: endpoint }]
          : [{ family: f, set: names.fixed('beap', f), element: `${endpoint},${p.protocol}:${p.port}` }];
      }
      if (fam(device) !== f) throw new Error(`device ${device} and endpoint ${endpoint} are of different IP families`);
      if (p.port !== undefined) return [{ family: f, set: names.fixed('bedp', f), element: `${device},${p.protocol}:${p.port},${endpoint}` }];
      const group: Group = { kind: 'bx', family: f, endpoint };
      return [{ family: f, set: names.member(group), element: device, group }];
    }
    case 'rate-limit-new-ports': {
      const p = params as ParamsOf<'rate-limit-new-ports'>;
      const group: Group = { kind: 'rl', family: fam(device), perMinute: p.perMinute, burst: p.burst };
      return [{ family: group.family, set: names.member(group), element: device, group }];
    }
    case 'quarantine-device': {
      const p = params as ParamsOf<'quarantine-device'>;
      const f = fam(device);
      const allow = [...new Set(p.allow.map(canonNet).filter((c) => familyOfCidr(c) === f))].sort();
      if (allow.some((c) => c.endsWith('/0'))) throw new Error('a /0 allow network would quarantine nothing');
      const group: Group = { kind: 'q', family: f, allow };
      return [{ family: f, set: names.member(group), element: device, group }];
    }
  }
  throw new Error(`unknown action ${String(action)}`);
}

/** Kernel timeout (s) for an entry: the remaining TTL plus the margin, capped by ipset; 0 = no timeout. */
export function entryTimeout(expiresAt: number | null, now: number, margin: number): number {
  if (expiresAt === null) return 0;
  const secs = Math.ceil((expiresAt - now) / 1000) + margin;
  return Math.min(2_147_483, Math.max(1, secs));
}
