// GET / — the operator console (static HTML + ES modules + CSS from src/api/console/) and GET /v1/whoami for its role.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SheriffError } from '../../errors.js';
import type { OperatorAuth } from '../auth.js';

export interface ConsoleRoutesDeps {
  auth: OperatorAuth;
  /** Folder with index.html and the assets; default: src/api/console (also found from a dist/ build). */
  dir?: string;
}

/**
 * The page gets everything from this origin and runs no inline script or style, so an alert name that
 * slipped into the DOM as markup still could not execute; frame-ancestors + X-Frame-Options stop clickjacking.
 */
export const consoleHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // The token lives in sessionStorage, not in the page; no-store still keeps stale UIs out of shared caches.
  'cache-control': 'no-store',
};

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** Asset names are allow-listed by shape and read once at startup: no path ever reaches the file system. */
const AssetName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}\.(html|js|css|svg)$/);

function findDir(): string {
  const candidates = [
    new URL('../console/', import.meta.url),
    // Built CLI (dist/src/api/routes): the assets stay in the source tree.
    new URL('../../../../src/api/console/', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const dir = candidates.find((d) => existsSync(`${d}index.html`));
  if (!dir) throw new Error(`console assets not found (looked in ${candidates.join(', ')})`);
  return dir;
}

export function loadConsoleAssets(dir: string = findDir()): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    if (!AssetName.safeParse(name).success) continue;
    const ext = name.slice(name.lastIndexOf('.') + 1);
    assets.set(name, { type: types[ext] ?? 'application/octet-stream', body: readFileSync(`${dir}/${name}`) });
  }
  if (!assets.has('index.html')) throw new Error(`console: no index.html in ${dir}`);
  return assets;
}

export function consoleRoutes(d: ConsoleRoutesDeps): FastifyPluginAsync {
  // Read at startup so a broken install fails when sheriff starts, not on the first page view.
  const assets = loadConsoleAssets(d.dir);
  const send = (reply: FastifyReply, name: string) => {
    const a = assets.get(name);
    if (!a) throw new SheriffError('NOT_FOUND', `no console file ${name.slice(0, 80)}`);
    return reply.headers(consoleHeaders).type(a.type).send(a.body);
  };
  return async (app) => {
    app.get('/', async (_req, reply) => send(reply, 'index.html'));
    app.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => {
      const name = AssetName.safeParse(req.params.file);
      if (!name.success || name.data === 'index.html') throw new SheriffError('NOT_FOUND', 'no such console file');
      return send(reply, name.data);
    });
    // Browsers ask for it on every page; answer quietly instead of logging 404s.
    app.get('/favicon.ico', async (_req, reply) => reply.headers(consoleHeaders).status(204).send());

    app.get('/v1/whoami', { preHandler: d.auth.requireRole('viewer') }, async (req) => {
      const p = req.principal;
      if (!p) throw new SheriffError('UNAUTHORIZED', 'send Authorization: Bearer <operator token>');
      return { name: p.name, role: p.role };
    });
  };
}
