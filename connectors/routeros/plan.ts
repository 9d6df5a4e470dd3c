// Pure mapping from an enforcement step to RouterOS objects: address lists, their entry, and the filter rules that use them.
import { createHash } from 'node:crypto';
import { parseCidr } from '../../src/contracts/net.js';
import type { ActionName, EnforcementStep } from '../../src/contracts/action.js';

/** One filter rule sheriff owns; recognised on the router by its comment `sheriff:rule:<action>:<list>:<part>`. */
export interface RuleSpec {
  comment: string;
  chain: string;
  /** Attribute words without `comment`/`place-before`; every value is built from parsed numbers, IPs and fixed names. */
  words: Record<string, string>;
}

/** A family of entries that share one list and one set of rules (e.g. "block SSH on ports 22,2222,2022"). */
export interface Variant {
  action: ActionName;
  list: string;
  rules: RuleSpec[];
  /** Lists sheriff fills once with static entries (the quarantine allow list). */
  staticLists: { name: string; addresses: string[] }[];
}

export interface Target {
  variant: Variant;
  /** The list entry's address, as RouterOS prints it (a /32 without its prefix). */
  address: string;
}

export const RULE_TAG = 'sheriff:rule:';
export const ENTRY_COMMENT = /^sheriff:(a-[a-z0-9]{8,40})$/;
/** RouterOS's longest address-list timeout (35w3d13h13m56s); longer TTLs are capped there. */
export const MAX_TIMEOUT_S = 21_474_836;

export function entryComment(actionId: string): string {
  return `sheriff:${actionId}`;
}

/** Seconds → RouterOS duration text, e.g. 7198 → "1h59m58s". */
export function formatRosDuration(seconds: number): string {
  let s = Math.max(1, Math.min(MAX_TIMEOUT_S, Math.ceil(seconds)));
  let out = '';
  for (const [unit, size] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(s / size);
    if (n > 0) out += `${n}${unit}`;
    s -= n * size;
  }
  return out;
}

/** RouterOS duration text → seconds; null when it is not one. */
export function parseRosDuration(text: string): number | null {
  const hms = /^(?:(\d+)d\s*)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (hms) return Number(hms[1] ?? 0) * 86400 + Number(hms[2]) * 3600 + Number(hms[3]) * 60 + Number(hms[4]);
  const sizes: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  const re = /(\d+)(w|d|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (sizes[m[2] as string] as number);
    end = re.lastIndex;
  }
  return end === text.length && text.length > 0 ? total : null;
}

/** A parsed IPv4 host or network in RouterOS's address form; throws on anything else. */
export function rosAddress(input: string): string {
  const r = parseCidr(input);
  if ('error' in r || r.family !== 4) throw new Error(`not an IPv4 address or network: ${JSON.stringify(input.slice(0, 64))}`);
  return r.cidr.endsWith('/32') ? r.cidr.slice(0, -3) : r.cidr;
}

function h8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

export class Planner {
  readonly internalList: string;
  private readonly defaultSsh: string;

  constructor(readonly prefix: string, private readonly sshPorts: number[]) {
    this.internalList = `${prefix}-internal`;
    this.defaultSsh = normalPorts(sshPorts).join(',');
  }

  /** The rules sheriff creates at start(): the default variant of each action. */
  defaultVariants(): Variant[] {
    return [
      this.ssh(this.sshPorts),
      this.endpointAll(undefined, 'tcp'),
      this.quarantine([]),
      this.rateLimit(10, 5),
    ];
  }

  plan(step: EnforcementStep): Target {
    const device = rosAddress(step.device.ip);
    switch (step.action) {
      case 'block-ssh-egress':
        return { variant: this.ssh(step.params.ports), address: device };
      case 'block-endpoint': {
        const endpoint = rosAddress(step.params.ip);
        if (step.params.scope === 'all') return { variant: this.endpointAll(step.params.port, step.params.protocol), address: endpoint };
        return { variant: this.endpointDevice(endpoint, step.params.port, step.params.protocol), address: device };
      }
      case 'quarantine-device':
        return { variant: this.quarantine(step.params.allow), address: device };
      case 'rate-limit-new-ports':
        return { variant: this.rateLimit(step.params.perMinute, step.params.burst), address: device };
    }
  }

  /** A list name is sheriff's when it carries the prefix and only the characters sheriff generates. */
  isOwnList(name: string): boolean {
    return name.startsWith(`${this.prefix}-`) && /^[a-z0-9-]{1,64}$/.test(name);
  }

  private rule(action: ActionName, list: string, part: string, chain: string, words: Record<string, string>): RuleSpec {
    return { comment: `${RULE_TAG}${action}:${list}:${part}`, chain, words: { chain, ...words } };
  }

  private ssh(ports: number[]): Variant {
    const sorted = normalPorts(ports);
    const key = sorted.join(',');
    const list = key === this.defaultSsh ? `${this.prefix}-block-ssh-egress` : `${this.prefix}-block-ssh-egress-${h8(key)}`;
    // RouterOS takes at most 15 ports per rule; longer sets get one rule per chunk.
    const rules: RuleSpec[] = [];
    for (let i = 0; i < sorted.length; i += 15) {
      rules.push(this.rule('block-ssh-egress', list, `r${i / 15}`, 'forward', {
        'src-address-list': list, protocol: 'tcp', 'dst-port': sorted.slice(i, i + 15).join(','),
        'dst-address-list': `!${this.internalList}`, action: 'reject', 'reject-with': 'tcp-reset',
      }));
    }
    return { action: 'block-ssh-egress', list, rules, staticLists: [] };
  }

  private portWords(port: number | undefined, protocol: 'tcp' | 'udp'): Record<string, string> {
    return port === undefined ? {} : { protocol, 'dst-port': String(port) };
  }

  private endpointDevice(endpoint: string, port: number | undefined, protocol: 'tcp' | 'udp'): Variant {
    const list = `${this.prefix}-block-endpoint-${h8(`${endpoint}|${port === undefined ? '' : `${protocol}/${port}`}`)}`;
    return {
      action: 'block-endpoint', list, staticLists: [],
      rules: [this.rule('block-endpoint', list, 'r0', 'forward', { 'src-address-list': list, 'dst-address': endpoint, ...this.portWords(port, protocol), action: 'drop' })],
    };
  }

  private endpointAll(port: number | undefined, protocol: 'tcp' | 'udp'): Variant {
    const list = port === undefined ? `${this.prefix}-block-endpoint-dst` : `${this.prefix}-block-endpoint-dst-${h8(`${protocol}/${port}`)}`;
    return {
      action: 'block-endpoint', list, staticLists: [],
      rules: [this.rule('block-endpoint', list, 'r0', 'forward', { 'dst-address-list': list, ...this.portWords(port, protocol), action: 'drop' })],
    };
  }

  private quarantine(allow: string[]): Variant {
    // IPv6 networks cannot sit in an IPv4 address list; they are left out (the IPv4 firewall never sees that traffic).
    const v4 = [...new Set(allow.flatMap((c) => { try { return [rosAddress(c)]; } catch { return []; } }))].sort();
    const list = v4.length === 0 ? `${this.prefix}-quarantine` : `${this.prefix}-quarantine-${h8(v4.join(','))}`;
    const allowList = `${list}-allow`;
    const except = (dir: 'src' | 'dst') => (v4.length === 0 ? {} : { [`${dir}-address-list`]: `!${allowList}` });
    return {
      action: 'quarantine-device', list,
      staticLists: v4.length === 0 ? [] : [{ name: allowList, addresses: v4 }],
      rules: [
        this.rule('quarantine-device', list, 'out', 'forward', { 'src-address-list': list, ...except('dst'), action: 'drop' }),
        this.rule('quarantine-device', list, 'in', 'forward', { 'dst-address-list': list, ...except('src'), action: 'drop' }),
      ],
    };
  }

  private rateLimit(perMinute: number, burst: number): Variant {
    const list = perMinute === 10 && burst === 5 ? `${this.prefix}-rate-limit` : `${this.prefix}-rate-limit-${h8(`${perMinute}/${burst}`)}`;
    // A jump into a chain of our own that `return`s under the limit: an `accept` there would skip the operator's later rules.
    return {
      action: 'rate-limit-new-ports', list, staticLists: [],
      rules: [
        this.rule('rate-limit-new-ports', list, 'under', list, { 'dst-limit': `${perMinute}/1m,${burst},src-address/1m`, action: 'return' }),
        this.rule('rate-limit-new-ports', list, 'over', list, { action: 'drop' }),
        this.rule('rate-limit-new-ports', list, 'jump', 'forward', {
          'src-address-list': list, 'connection-state': 'new', 'dst-address-list': `!${this.internalList}`, action: 'jump', 'jump-target': list,
        }),
      ],
    };
  }
}

/** Parses a rule comment back into its action and list; null for comments sheriff did not write. */
export function parseRuleComment(comment: string | undefined): { action: ActionName; list: string; part: string } | null {
  if (!comment?.startsWith(RULE_TAG)) return null;
  const m = /^(block-ssh-egress|block-endpoint|rate-limit-new-ports|quarantine-device):([a-z0-9-]{1,64}):([a-z0-9]{1,8})$/.exec(comment.slice(RULE_TAG.length));
  return m ? { action: m[1] as ActionName, list: m[2] as string, part: m[3] as string } : null;
}

function normalPorts(ports: number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}
