// The API's own documentation: a route recorder to register first, and GET /docs/openapi.json + GET /docs to register last.
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { buildOpenApi } from './document.js';
import { routeRecorder } from './recorder.js';
import { renderViewer } from './viewer.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface ApiDocs {
  /** Register before every route plugin. */
  recorder: FastifyPluginAsync;
  /** The docs routes; register anywhere after the recorder. */
  routes: FastifyPluginAsync;
  document(): Record<string, unknown>;
}

export function apiDocs(info = { title: 'sheriff', version: packageVersion() }): ApiDocs {
  const recorder = routeRecorder();
  let cached: Record<string, unknown> | null = null;
  // Built on first request, when every route is registered (the server is ready by then).
  const document = () => (cached ??= buildOpenApi(recorder.routes(), info));
  const routes: FastifyPluginAsync = async (app) => {
    app.get('/docs/openapi.json', async () => document());
    app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderViewer(document())));
  };
  return { recorder: recorder.plugin, routes, document };
}
