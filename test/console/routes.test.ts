// The console routes without a browser: security headers, asset allow-list, whoami per role, no inline script.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createOperatorAuth } from '../../src/api/auth.js';
import { consoleRoutes, loadConsoleAssets } from '../../src/api/routes/console.js';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';

const tokens = [
  { name: 'vera', role: 'viewer' as const, token: 'console-viewer-token-0123456789' },
  { name: 'abe', role: 'approver' as const, token: 'console-approver-token-0123456789' },
  { name: 'ada', role: 'admin' as const, token: 'console-admin-token-0123456789' },
];
const dir = fileURLToPath(new URL('../../src/api/console/', import.meta.url));

function assertSecurityHeaders(headers: Record<string, unknown>, what: string) {
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, what);
  assert.match(csp, /script-src 'self'(;|$)/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, what);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['referrer-policy'], 'no-referrer', what);
  assert.equal(headers['x-frame-options'], 'DENY', what);
}

describe('console routes', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer({ log: createLogger({ level: 'silent' }), bodyLimit: 1024, plugins: [consoleRoutes({ auth: createOperatorAuth({ auth: { tokens } }) })] });
  });
  after(async () => { await app.close(); });

  it('serves the page and every asset with the security headers and the right types', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assertSecurityHeaders(page.headers, '/');
    for (const [name, type] of [['app.js', /^text\/javascript/], ['app.css', /^text\/css/], ['dom.js', /^text\/javascript/]] as const) {
      const res = await app.inject({ method: 'GET', url: `/console/${name}` });
      assert.equal(res.statusCode, 200, name);
      assert.match(String(res.headers['content-type']), type, name);
      assertSecurityHeaders(res.headers, name);
      assert.equal(res.body, readFileSync(join(dir, name), 'utf8'));
    }
  });

  it('serves only allow-listed asset names, never a path', async () => {
    for (const url of ['/console/../package.json', '/console/%2e%2e%2fpackage.json', '/console/..%2F..%2Fconfig.ts', '/console/nope.js', '/console/index.html', '/console/.env', '/console/APP.JS']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /"name": "sheriff"|import /, url);
    }
  });

  it('whoami answers the name and role of the token, 401 without a valid one', async () => {
    for (const t of tokens) {
      const res = await app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${t.token}` } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { name: t.name, role: t.role });
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: 'Bearer not-a-token-at-all-xxxxxxxx' } })).statusCode, 401);
    // The console never uses cookies: a cookie alone authenticates nothing.
    assert.equal((await app.inject({ method: 'GET', url: '/v1/whoami', headers: { cookie: `token=${tokens[2]!.token}` } })).statusCode, 401);
  });

  it('the page has no inline script, inline style or event-handler attribute, and the scripts never parse HTML', () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1] ?? '', /\bsrc="\/console\/[a-z-]+\.js"/);
      assert.equal((m[2] ?? '').trim(), '');
    }
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|DOMParser|createContextualFragment/, f);
    }
  });

  it('a missing asset folder fails at startup, not on the first request', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sheriff-console-'));
    try {
      assert.throws(() => loadConsoleAssets(empty), /no index\.html/);
      writeFileSync(join(empty, 'index.html'), '<!doctype html>');
      writeFileSync(join(empty, 'secret.txt'), 'x');
      assert.deepEqual([...loadConsoleAssets(empty).keys()], ['index.html']);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
