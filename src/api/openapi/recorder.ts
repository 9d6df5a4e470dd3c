// Records every route the server registers (Fastify onRoute), with the operator role its guard enforces.
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import { REQUIRED_ROLE, type Role } from '../auth.js';

export interface RecordedRoute {
  method: string;
  /** Fastify syntax: /v1/actions/:id */
  url: string;
  /** Minimum operator role from a requireRole preHandler; null when the route has no operator guard. */
  role: Role | null;
}

function roleOf(pre: RouteOptions['preHandler']): Role | null {
  const hooks = Array.isArray(pre) ? pre : pre ? [pre] : [];
  for (const h of hooks) {
    const role = (h as unknown as Record<symbol, Role | undefined>)[REQUIRED_ROLE];
    if (role) return role;
  }
  return null;
}

export interface RouteRecorder {
  /** Register before every other plugin: onRoute only sees routes added after it. */
  plugin: FastifyPluginAsync;
  routes(): RecordedRoute[];
}

export function routeRecorder(): RouteRecorder {
  const routes: RecordedRoute[] = [];
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRoute', (r) => {
      for (const method of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method, url: r.url, role: roleOf(r.preHandler) });
    });
  };
  // Not encapsulated (what fastify-plugin does): the hook must see the routes of sibling plugins too.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return { plugin, routes: () => [...routes] };
}
