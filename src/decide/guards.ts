// The guard pipeline every request passes: protected assets, coverage, dedupe, blast radius, TTL cap — in that order.
import { compileRanges, inRanges, parseCidr, parseHostIp } from '../contracts/net.js';
import { compileGlob } from '../playbooks/match.js';
import type { ActionRequest, ConnectorInfo } from './types.js';

export interface GuardConfig {
  protected: { cidrs: readonly string[]; hostnames: readonly string[] };
  limits: { maxNewPerHour: number; maxActive: number };
  ttl: { max: number };
  connectors: readonly ConnectorInfo[];
}

/** What the ledger knows now; functions may be async (Redis) or plain (replay). */
export interface GuardContext {
  /** A live action on this device with the same action and params (pending approval included), or null. */
  findLive(ip: string, action: string, paramsKey: string): Promise<{ id: string } | null> | { id: string } | null;
  newInLastHour: number;
  activeCount: number;
}

export type GuardOutcome =
  | { outcome: 'protected'; request: ActionRequest; reason: string }
  | { outcome: 'uncovered'; request: ActionRequest; reason: string }
  | { outcome: 'extend'; request: ActionRequest; actionId: string; reason: string }
  /** `request` carries the guards' changes (approval, ttl); `notes` say what changed and why. */
  | { outcome: 'create'; request: ActionRequest; connectors: string[]; notes: string[] };

/** Canonical JSON of (action, params): sorted keys, primitive arrays sorted (our arrays are sets: ports, CIDRs). */
export function paramsKey(action: string, params: Record<string, unknown>): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(canon);
      return items.every((i) => typeof i !== 'object' || i === null) ? [...items].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)) : items;
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canon((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify([action, canon(params)]);
}

export interface Guards {
  apply(request: ActionRequest, ctx: GuardContext): Promise<GuardOutcome>;
  /** Connectors whose scope holds the device and that offer the action. */
  covering(ip: string, action: string): ConnectorInfo[];
}

function overlaps(cidr: string, ranges: ReturnType<typeof compileRanges>, protectedCidrs: readonly string[]): string | undefined {
  // Blocking a network that contains a protected address (or sits inside a protected network) would cut it off too.
  const net = compileRanges([cidr])[0];
  if (!net) return undefined;
  const [addr, bits] = net;
  return protectedCidrs.find((p, i) => {
    const r = ranges[i];
    if (!r || r[0].kind() !== addr.kind()) return false;
    return bits <= r[1] ? r[0].match(net as never) : addr.match(r as never);
  });
}

export function createGuards(config: GuardConfig): Guards {
  const protectedRanges = compileRanges(config.protected.cidrs);
  const protectedHosts = config.protected.hostnames.map((h) => compileGlob(h));
  const scopes = config.connectors.map((c) => ({ info: c, ranges: c.scope ? compileRanges(c.scope) : null }));

  const covering = (ip: string, action: string) => scopes
    .filter((s) => (s.ranges === null || inRanges(ip, s.ranges)) && (s.info.capabilities as readonly string[]).includes(action))
    .map((s) => s.info);

  async function apply(request: ActionRequest, ctx: GuardContext): Promise<GuardOutcome> {
    const parsed = parseHostIp(request.target.ip);
    if ('error' in parsed) return { outcome: 'protected', request, reason: `refused: ${parsed.error}` };
    const ip = parsed.ip;
    // 1. Protected assets: never contained, whatever a playbook says.
    if (inRanges(ip, protectedRanges)) {
      const which = config.protected.cidrs.find((c) => inRanges(ip, compileRanges([c])));
      return { outcome: 'protected', request, reason: `${ip} is a protected asset (protected.cidrs ${which}); not contained` };
    }
    const host = request.target.hostname?.toLowerCase();
    if (host !== undefined && protectedHosts.some((re) => re.test(host))) {
      return { outcome: 'protected', request, reason: `${host} is a protected asset (protected.hostnames); not contained` };
    }
    if (request.action === 'block-endpoint' && typeof request.params.ip === 'string') {
      const endpoint = parseCidr(request.params.ip);
      const hit = 'error' in endpoint ? undefined : overlaps(endpoint.cidr, protectedRanges, config.protected.cidrs);
      if (hit !== undefined) return { outcome: 'protected', request, reason: `the endpoint ${request.params.ip} overlaps the protected ${hit}; not blocked` };
    }
    // 2. Coverage: somebody must be able to enforce it for this device.
    const conns = covering(ip, request.action);
    if (conns.length === 0) {
      const inScope = scopes.filter((s) => s.ranges === null || inRanges(ip, s.ranges)).map((s) => s.info.name);
      const reason = inScope.length
        ? `no connector can ${request.action} for ${ip}: the connectors covering it (${inScope.join(', ')}) lack that capability`
        : `no configured connector's scope contains ${ip}`;
      return { outcome: 'uncovered', request, reason };
    }
    // 3. Dedupe: the same containment already live on this device is extended, never applied twice.
    const key = paramsKey(request.action, request.params);
    const live = await ctx.findLive(ip, request.action, key);
    if (live) return { outcome: 'extend', request, actionId: live.id, reason: `same ${request.action} already live on ${ip} as ${live.id}; extend it` };
    // 4. Blast radius: past the budget, automatic actions wait for a human.
    const notes: string[] = [];
    let out = request;
    if (out.approval === 'auto') {
      if (ctx.newInLastHour >= config.limits.maxNewPerHour) {
        out = { ...out, approval: 'required' };
        notes.push(`blast radius: ${ctx.newInLastHour} new actions in the last hour (limits.maxNewPerHour ${config.limits.maxNewPerHour}); needs approval`);
      } else if (ctx.activeCount >= config.limits.maxActive) {
        out = { ...out, approval: 'required' };
        notes.push(`blast radius: ${ctx.activeCount} active actions (limits.maxActive ${config.limits.maxActive}); needs approval`);
      }
    }
    // 5. TTL cap.
    if (out.ttlMs > config.ttl.max) {
      notes.push(`ttl capped from ${out.ttlMs} ms to ttl.max ${config.ttl.max} ms`);
      out = { ...out, ttlMs: config.ttl.max };
    }
    return { outcome: 'create', request: out, connectors: conns.map((c) => c.name), notes };
  }

  return { apply, covering };
}
