// Builds the OpenAPI 3.1 document from the recorded routes, the known operations and zod schemas (z.toJSONSchema).
import { z } from 'zod';
import { errorCatalogue } from '../../errors.js';
import type { RecordedRoute } from './recorder.js';
import { operations, type Operation } from './operations.js';
import { responseSchemas } from './responses.js';

type Json = Record<string, unknown>;

/** Request schemas as clients send them (before transforms); response schemas as sheriff writes them. */
function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** /v1/actions/:id → /v1/actions/{id} */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Fastify adds a HEAD twin to every GET; those are not separate operations. */
export function documentedRoutes(routes: RecordedRoute[]): RecordedRoute[] {
  const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = `${r.method} ${r.url}`;
    if ((r.method === 'HEAD' && gets.has(r.url)) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const statusText: Record<number, string> = {};
for (const e of Object.values(errorCatalogue)) statusText[e.status] ??= e.message;

function parameters(op: Operation | undefined, url: string): Json[] {
  const out: Json[] = [];
  const fromObject = (obj: z.ZodObject | undefined, where: 'path' | 'query') => {
    if (!obj) return;
    const js = schemaOf(obj, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema });
    }
  };
  fromObject(op?.params, 'path');
  fromObject(op?.query, 'query');
  // Path parameters of routes nobody described still have to be declared.
  for (const m of url.matchAll(/:([A-Za-z0-9_]+)/g)) {
    if (!out.some((p) => p.in === 'path' && p.name === m[1])) out.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  return out;
}

function operation(r: RecordedRoute, op: Operation | undefined): Json {
  const errors = new Set<number>([...(op?.errors ?? []), 500]);
  const security: Json[] = [];
  if (r.role) {
    errors.add(401).add(403);
    security.push({ operatorToken: [r.role] });
  } else if (op?.sourceAuth) {
    errors.add(401);
    security.push({ sourceSignature: [] }, { sourceToken: [] });
  }
  const ok = op?.status ?? 200;
  const okBody = op?.response === undefined ? { description: 'Success', content: { 'application/json': { schema: {} } } }
    : typeof op.response === 'string' ? { description: 'Success', content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.response}` } } } }
      : { description: op.response.description, content: { [op.response.text]: { schema: op.response.text === 'application/json' ? { type: 'object' } : { type: 'string' } } } };
  const responses: Json = { [String(ok)]: okBody };
  for (const code of [...errors].sort()) responses[String(code)] = { $ref: `#/components/responses/E${code}` };
  return {
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: op?.summary ?? `${r.method} ${r.url}`,
    tags: [op?.tag ?? 'other'],
    ...(r.role ? { description: `Requires an operator bearer token with role ${r.role} or higher (viewer < approver < admin).`, 'x-sheriff-role': r.role } : {}),
    security,
    parameters: parameters(op, r.url),
    ...(op?.body ? {
      requestBody: {
        required: true,
        content: op.sourceAuth
          ? { 'application/json': { schema: schemaOf(op.body, 'input') }, 'application/x-ndjson': { schema: { type: 'string' } } }
          : { 'application/json': { schema: schemaOf(op.body, 'input') } },
      },
    } : {}),
    responses,
  };
}

export function buildOpenApi(routes: RecordedRoute[], info: { title: string; version: string }): Json {
  const paths: Record<string, Json> = {};
  const errorCodes = new Set<number>([401, 403, 500]);
  for (const r of documentedRoutes(routes)) {
    const op = operations[`${r.method} ${r.url}`];
    const built = operation(r, op);
    for (const k of Object.keys(built.responses as Json)) if (/^[45]/.test(k)) errorCodes.add(Number(k));
    (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = built;
  }
  const responses = Object.fromEntries([...errorCodes].sort().map((code) => [`E${code}`, {
    description: statusText[code] ?? 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  }]));
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'sheriff: detector alerts in, targeted time-limited containment out. Errors are always { error: { code, message, details? } }.' },
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(responseSchemas).map(([name, s]) => [name, schemaOf(s, 'output')])),
      responses,
      securitySchemes: {
        operatorToken: { type: 'http', scheme: 'bearer', description: 'Operator token from auth.tokens; each is bound to a role (viewer < approver < admin). The role an operation needs is listed in its security requirement.' },
        sourceToken: { type: 'http', scheme: 'bearer', description: 'Per-source webhook token (sources.<name>.token).' },
        sourceSignature: { type: 'apiKey', in: 'header', name: 'X-Sheriff-Signature', description: 't=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> with sources.<name>.secret; 5-minute window, each signature once.' },
      },
    },
  };
}
