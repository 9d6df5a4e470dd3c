// Schemas for network values: one host address (v4 or v6, v4-mapped folded), CIDRs, ports, durations.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

// Documentation and other reserved ranges are real hosts in labs and tests; only what can never be one device is refused.
const refusedRanges = new Set(['unspecified', 'loopback', 'multicast', 'broadcast', 'linkLocal']);

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses one host address; returns the canonical text or a reason it is refused. */
export function parseHostIp(input: string): { ip: string; family: 4 | 6 } | { error: string } {
  const text = input.trim();
  // The common case, a plain dotted quad, is built directly (it is what ipaddr.parse would return for it).
  if (DOTTED_QUAD.test(text)) return checkHost(new ipaddr.IPv4(text.split('.').map(Number)));
  if (!ipaddr.isValid(text) || /[^0-9a-fA-F:.]/.test(text)) return { error: `"${text.slice(0, 64)}" is not an IP address` };
  // ipaddr.js also reads "10.1" and "010.0.0.1" (octal): only plain dotted quads are host addresses here.
  if (!text.includes(':')) return { error: `"${text.slice(0, 64)}" is not a dotted-quad IPv4 address` };
  let addr: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) addr = v6.toIPv4Address();
  }
  return checkHost(addr);
}

function checkHost(addr: ipaddr.IPv4 | ipaddr.IPv6): { ip: string; family: 4 | 6 } | { error: string } {
  const range = addr.range();
  if (refusedRanges.has(range) && !(range === 'linkLocal' && addr.kind() === 'ipv4')) {
    return { error: `${addr.toString()} is a ${range} address, not one host` };
  }
  if (addr.kind() === 'ipv4' && addr.toString().endsWith('.255') && range === 'broadcast') return { error: 'broadcast address' };
  return { ip: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6 };
}

export const hostIp = z.string().max(64).transform((s, ctx) => {
  const r = parseHostIp(s);
  if ('error' in r) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.ip;
});

export function parseCidr(input: string): { cidr: string; family: 4 | 6 } | { error: string } {
  const text = input.trim();
  try {
    const withPrefix = text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`;
    if (/[^0-9a-fA-F:./]/.test(withPrefix)) return { error: `"${text.slice(0, 64)}" is not a CIDR` };
    let [addr, bits] = ipaddr.parseCIDR(withPrefix);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
      bits -= 96;
    }
    const network = addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`);
    return { cidr: `${network.toString()}/${bits}`, family: addr.kind() === 'ipv4' ? 4 : 6 };
  } catch {
    return { error: `"${text.slice(0, 64)}" is not a CIDR (expected e.g. 10.0.0.0/8)` };
  }
}

export const cidr = z.string().max(64).transform((s, ctx) => {
  const r = parseCidr(s);
  if ('error' in r) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.cidr;
});

export const port = z.number().int().min(1).max(65535);

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "10m", "2h", "7d", "1h30m" → milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const re = /(\d+)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed === text.length && text.length > 0 && total > 0 ? total : null;
}

export const duration = z.union([z.string().max(32), z.number().int().positive()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${v.slice(0, 32)}" is not a duration (use e.g. 90s, 10m, 2h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

export type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** CIDRs (already validated) → ranges, compiled once; test addresses with inRanges. */
export function compileRanges(cidrs: readonly string[]): Range[] {
  return cidrs.map((c) => ipaddr.parseCIDR(c));
}

/** Is `ip` inside any of the ranges? Not an address → false; v4-mapped v6 counts as its v4 address. */
export function inRanges(ip: string, ranges: readonly Range[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.process(ip);
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

export const defaultInternalCidrs = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
