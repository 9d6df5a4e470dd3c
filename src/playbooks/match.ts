// Playbook matchers, compiled once per playbook: name globs, sources, score, device CIDRs/tags/hostnames, peer.
import ipaddr from 'ipaddr.js';
import type { AlertView } from '../contracts/action-module.js';
import { parseCidr, parseHostIp } from '../contracts/net.js';
import type { Playbook } from '../contracts/playbook.js';

export interface MatchResult {
  /** Human phrases of the conditions the alert met, for the action's reason. */
  conditions: string[];
}

export type Matcher = (alert: AlertView) => MatchResult | null;

export interface CompiledPlaybook {
  name: string;
  playbook: Playbook;
  /** Where it was defined, for messages. */
  file: string;
  line: number;
  match: Matcher;
}

/** Darktrace writes `A / B` or (older) `A::B`; treat every separator form alike, and ignore case and spacing. */
export function normaliseName(name: string): string {
  return name.replace(/\s*(?:::|\/)\s*/g, ' / ').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** A glob (`*` any run, `?` one character) to an anchored RegExp; everything else is literal. */
export function globToRegExp(glob: string, normalise: (s: string) => string = (s) => s.toLowerCase()): RegExp {
  const text = normalise(glob);
  let re = '';
  for (const ch of text) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRange(cidr: string): Range {
  return ipaddr.parseCIDR(cidr);
}

/** Is `ip` (canonical host address) inside any of the precompiled ranges? */
export function inRanges(ip: string, ranges: readonly Range[]): boolean {
  const addr = ipaddr.parse(ip);
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

export function compileRanges(cidrs: readonly string[]): Range[] {
  return cidrs.map(parseRange);
}

export function compileMatcher(pb: Playbook): Matcher {
  const m = pb.match;
  const sources = m.source ? new Set<string>(m.source) : null;
  const names = m.name?.map((n) => globToRegExp(n, normaliseName)) ?? null;
  const ranges = m.device?.cidrs?.length ? compileRanges(m.device.cidrs) : null;
  const tags = m.device?.tags?.length ? new Set(m.device.tags.map((t) => t.toLowerCase())) : null;
  const hosts = m.device?.hostnames?.length ? m.device.hostnames.map((h) => globToRegExp(h)) : null;
  return (alert) => {
    const conditions: string[] = [];
    if (sources) {
      if (!sources.has(alert.source)) return null;
      conditions.push(`source ${alert.source}`);
    }
    if (names) {
      const n = normaliseName(alert.name);
      if (!names.some((re) => re.test(n))) return null;
      conditions.push(`name "${alert.name.slice(0, 120)}"`);
    }
    if (m.minScore !== undefined) {
      if (!(alert.score >= m.minScore)) return null;
      conditions.push(`score ${alert.score} ≥ ${m.minScore}`);
    }
    if (ranges) {
      const ip = parseHostIp(alert.device.ip);
      if ('error' in ip || !inRanges(ip.ip, ranges)) return null;
      conditions.push(`device in ${m.device?.cidrs?.join(', ')}`);
    }
    if (tags) {
      const hit = alert.device.tags.find((t) => tags.has(t.toLowerCase()));
      if (hit === undefined) return null;
      conditions.push(`device tag "${hit}"`);
    }
    if (hosts) {
      const h = alert.device.hostname?.toLowerCase();
      if (h === undefined || !hosts.some((re) => re.test(h))) return null;
      conditions.push(`hostname ${h}`);
    }
    if (m.hasPeer !== undefined) {
      const peer = alert.peer?.ip;
      // The same test block-endpoint applies when it takes the peer: one address, no prefix.
      const has = peer !== undefined && !peer.includes('/') && !('error' in parseCidr(peer));
      if (has !== m.hasPeer) return null;
      conditions.push(has ? `peer ${peer}${alert.peer?.port ? `:${alert.peer.port}` : ''}` : 'no peer');
    }
    return { conditions };
  };
}
