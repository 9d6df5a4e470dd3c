// The blast-radius budget, reserved atomically in Redis: concurrent decisions (any number of processes) cannot overspend it.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface BudgetLimits { maxNewPerHour: number; maxActive: number }

/** Reservations not yet visible as ledger records count as live for this long (record creation takes milliseconds). */
const IN_FLIGHT_MS = 10_000;
const WINDOW_MS = 3_600_000;

// KEYS: reservations (1 h window), in-flight reservations, state index zsets approved/enforcing/active.
// ARGV: now, window, in-flight window, maxNewPerHour, maxActive, member.
// Returns {1} when reserved, {0, 'new', n} or {0, 'active', n} when the budget is spent.
const RESERVE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
local recent = redis.call('ZCARD', KEYS[1])
if recent >= tonumber(ARGV[4]) then return {0, 'new', recent} end
local live = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4]) + redis.call('ZCARD', KEYS[5]) + redis.call('ZCARD', KEYS[2])
if live >= tonumber(ARGV[5]) then return {0, 'active', live} end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('ZADD', KEYS[2], now, ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1}
`;

export type Reservation = { ok: true } | { ok: false; note: string };

export class BlastRadiusBudget {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly limits: BudgetLimits) {}

  /**
   * Takes one automatic action from the budget, or says why not. The guards' own count is a cheap pre-check;
   * this is the authoritative one: it reads and books in one Lua call, so a flood decided in parallel gets
   * at most `maxNewPerHour` automatic actions per hour and never pushes live automatic actions past `maxActive`.
   * In-flight reservations also count as live for a few seconds after their record exists: stricter, never looser.
   */
  async reserve(now = Date.now()): Promise<Reservation> {
    const p = this.prefix;
    const res = await this.redis.eval(RESERVE, 5,
      `${p}:budget:auto`, `${p}:budget:in-flight`, `${p}:idx:state:approved`, `${p}:idx:state:enforcing`, `${p}:idx:state:active`,
      now, WINDOW_MS, IN_FLIGHT_MS, this.limits.maxNewPerHour, this.limits.maxActive, `${now}-${randomBytes(6).toString('hex')}`) as [number, string?, number?];
    if (res[0] === 1) return { ok: true };
    return res[1] === 'new'
      ? { ok: false, note: `blast radius: ${res[2]} new automatic actions in the last hour (limits.maxNewPerHour ${this.limits.maxNewPerHour}); needs approval` }
      : { ok: false, note: `blast radius: ${res[2]} live automatic or approved actions (limits.maxActive ${this.limits.maxActive}); needs approval` };
  }
}
