// Records every route as it is registered (Fastify onRoute), so tests and docs can enumerate the real surface.
import type { FastifyInstance } from 'fastify';

export interface RouteInfo { method: string; url: string }

const index = new WeakMap<FastifyInstance, RouteInfo[]>();

export function installRouteIndex(app: FastifyInstance): void {
  const routes: RouteInfo[] = [];
  index.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method, url: r.url });
  });
}

/** Every route registered on the app since installRouteIndex (HEAD routes Fastify adds for GET included). */
export function registeredRoutes(app: FastifyInstance): readonly RouteInfo[] {
  return index.get(app) ?? [];
}
