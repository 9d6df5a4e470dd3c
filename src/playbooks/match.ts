// Playbook matchers, compiled once per playbook: name globs, sources, score, device CIDRs/tags/hostnames, peer.
import type { AlertView } from '../contracts/action-module.js';
import { compileRanges, inRanges, parseCidr, parseHostIp } from '../contracts/net.js';
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

export interface Glob {
  test(text: string): boolean;
}

/**
 * A glob (`*` any run, `?` one character; everything else literal), matched by the two-pointer wildcard
 * algorithm: O(pattern × text) at worst, where a RegExp of many `.*` could backtrack for ages on a long name.
 */
export function compileGlob(glob: string, normalise: (s: string) => string = (s) => s.toLowerCase()): Glob {
  const p = [...normalise(glob)];
  return {
    test(input: string): boolean {
      const t = [...input];
      let i = 0;
      let j = 0;
      let star = -1;
      let mark = 0;
      while (i < t.length) {
        if (j < p.length && (p[j] === '?' || (p[j] !== '*' && p[j] === t[i]))) {
          i++;
          j++;
        } else if (j < p.length && p[j] === '*') {
          star = j++;
          mark = i;
        } else if (star >= 0) {
          j = star + 1;
          i = ++mark;
        } else return false;
      }
      while (j < p.length && p[j] === '*') j++;
      return j === p.length;
    },
  };
}

export function compileMatcher(pb: Playbook): Matcher {
  const m = pb.match;
  const sources = m.source ? new Set<string>(m.source) : null;
  const names = m.name?.map((n) => compileGlob(n, normaliseName)) ?? null;
  const ranges = m.device?.cidrs?.length ? compileRanges(m.device.cidrs) : null;
  const tags = m.device?.tags?.length ? new Set(m.device.tags.map((t) => t.toLowerCase())) : null;
  const hosts = m.device?.hostnames?.length ? m.device.hostnames.map((h) => compileGlob(h)) : null;
  return (alert) => {
    const conditions: string[] = [];
    if (sources) {
      if (!sources.has(alert.source)) return null;
      conditions.push(`source ${alert.source}`);
    }
    if (names) {
      const n = normaliseName(alert.name);
      if (!names.some((re) => re.test(n))) return null;
      conditions.push(`name "${alert.name.slice(0, 120).replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?')}"`);
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
      conditions.push(`device tag "${hit.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}"`);
    }
    if (hosts) {
      const h = alert.device.hostname?.toLowerCase();
      if (h === undefined || !hosts.some((re) => re.test(h))) return null;
      conditions.push(`hostname ${h.replace(/[^a-z0-9._*-]/g, '?')}`);
    }
    if (m.hasPeer !== undefined) {
      const peer = alert.peer?.ip;
      // The same test block-endpoint applies when it takes the peer: one address, no prefix.
      const parsed = peer !== undefined && !peer.includes('/') ? parseCidr(peer) : undefined;
      const addr = parsed && !('error' in parsed) ? parsed.cidr.replace(/\/\d+$/, '') : undefined;
      if ((addr !== undefined) !== m.hasPeer) return null;
      conditions.push(addr !== undefined ? `peer ${addr}${alert.peer?.port ? `:${alert.peer.port}` : ''}` : 'no peer');
    }
    return { conditions };
  };
}
