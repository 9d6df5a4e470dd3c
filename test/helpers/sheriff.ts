// Test helper: a whole sheriff (API + workers) on the real Redis under a private prefix, with operator tokens per role.
import { parseConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startSheriff, type Role, type Sheriff } from '../../src/main.js';
import { dropPrefix, testPrefix, testRedis } from './redis.js';

export const TOKENS = {
  viewer: 'viewer-token-0123456789abcdef',
  approver: 'approver-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
} as const;
export const SOURCE_TOKEN = 'source-token-0123456789abcdef';

export interface TestSheriff {
  sheriff: Sheriff;
  config: Config;
  prefix: string;
  /** app.inject with an operator role's token. */
  api(role: keyof typeof TOKENS | null, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestSheriff(overrides: Record<string, unknown> = {}, opts: { role?: Role; prefix?: string } = {}): Promise<TestSheriff> {
  const prefix = opts.prefix ?? testPrefix('e2e');
  const config = parseConfig({
    mode: 'active',
    redisPrefix: prefix,
    playbooks: './playbooks',
    auth: { tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: role, role, token })) },
    sources: Object.fromEntries(['darktrace', 'suricata', 'zeek', 'falco', 'alertmanager', 'generic'].map((s) => [s, { token: SOURCE_TOKEN }])),
    connectors: { dry: { type: 'log' } },
    reconcile: { interval: '1h' },
    ...overrides,
  });
  const log = createLogger({ level: process.env.SHERIFF_TEST_LOG ?? 'silent' });
  const sheriff = await startSheriff({ config, role: opts.role ?? 'all', log, reconcileOnStart: false });
  await sheriff.ready();
  return {
    sheriff, config, prefix,
    async api(role, method, url, body) {
      if (!sheriff.app) throw new Error('no API in this role');
      const res = await sheriff.app.inject({
        method: method as 'GET',
        url,
        headers: role ? { authorization: `Bearer ${TOKENS[role]}` } : {},
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : null };
    },
    async close(o = {}) {
      await sheriff.close();
      if (!o.keepData) {
        const r = testRedis();
        await dropPrefix(r, prefix);
        r.disconnect();
      }
    },
  };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
