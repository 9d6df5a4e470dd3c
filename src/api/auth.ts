// Operator authentication: bearer tokens bound to roles viewer < approver < admin.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';

export const roles = ['viewer', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Property on a requireRole preHandler naming the minimum role it lets through. */
export const REQUIRED_ROLE = Symbol.for('sheriff.requiredRole');

export interface Principal {
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares digests so every comparison takes the same time whatever the lengths. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export function createOperatorAuth(config: Pick<Config, 'auth'>) {
  const tokens = config.auth.tokens;
  function authenticate(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    let found: Principal | undefined;
    for (const t of tokens) if (safeEqual(t.token, token)) found = { name: t.name, role: t.role };
    return found;
  }
  /** A preHandler that lets through principals with at least `min`. */
  function requireRole(min: Role) {
    const check = async (req: FastifyRequest, _reply: FastifyReply) => {
      const p = req.principal ?? authenticate(bearer(req));
      if (!p) throw new SheriffError('UNAUTHORIZED', 'send Authorization: Bearer <operator token>');
      if (roles.indexOf(p.role) < roles.indexOf(min)) throw new SheriffError('FORBIDDEN', `role ${p.role} may not do this (needs ${min})`);
      req.principal = p;
    };
    // Tagged so the OpenAPI document reads each route's role from the guard it really runs.
    return Object.assign(check, { [REQUIRED_ROLE]: min });
  }
  return { authenticate, requireRole };
}
export type OperatorAuth = ReturnType<typeof createOperatorAuth>;
