// CLI commands that talk to a running sheriff over the operator API (SHERIFF_URL, SHERIFF_TOKEN).
import type { Command } from 'commander';

interface Globals { url?: string; token?: string; json?: boolean }

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

async function call(g: Globals, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = (g.url ?? process.env.SHERIFF_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = g.token ?? process.env.SHERIFF_TOKEN;
  if (!token) throw new CliError('no operator token: set SHERIFF_TOKEN or pass --token');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach sheriff at ${base} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); is it running? set SHERIFF_URL or --url`);
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } })?.error;
    throw new CliError(`refused (${res.status}${e?.code ? ` ${e.code}` : ''}): ${e?.message ?? text.slice(0, 200)}`, res.status === 404 ? 4 : 1);
  }
  return json;
}

type Row = Record<string, string>;

export function table(rows: Row[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}

interface ActionJson {
  id: string; action: string; state: string; mode: string; target: { ip: string; hostname?: string };
  playbook: string | null; reason: string; createdAt: string; expiresAt?: string;
  connectors: Array<{ name: string; status: string; detail: string }>;
  history: Array<{ at: string; state: string; by: string; note: string }>;
}

function left(expiresAt?: string): string {
  if (!expiresAt) return '';
  const s = Math.round((Date.parse(expiresAt) - Date.now()) / 1000);
  if (s <= 0) return 'due';
  return s > 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s > 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function showAction(a: ActionJson): string {
  return [
    `${a.id}  ${a.action}  ${a.target.ip}${a.target.hostname ? ` (${a.target.hostname})` : ''}`,
    `state: ${a.state}   mode: ${a.mode}   playbook: ${a.playbook ?? 'manual'}   expires: ${a.expiresAt ?? '-'} ${left(a.expiresAt)}`,
    `why: ${a.reason}`,
    'connectors:',
    ...(a.connectors.length ? a.connectors.map((c) => `  ${c.name}: ${c.status} — ${c.detail}`) : ['  (none yet)']),
    'history:',
    ...a.history.map((h) => `  ${h.at}  ${h.state.padEnd(16)} ${h.by}: ${h.note}`),
  ].join('\n');
}

export function registerClientCommands(program: Command): void {
  const globals = (cmd: Command): Globals => cmd.optsWithGlobals() as Globals;
  const out = (g: Globals, json: unknown, text: () => string) => console.log(g.json ? JSON.stringify(json, null, 2) : text());

  const actions = program.commands.find((c) => c.name() === 'actions') ?? program.command('actions').description('list and operate on actions');
  actions.command('list').description('list actions, newest first')
    .option('--state <state>').option('--device <ip>').option('--action <name>').option('--limit <n>', 'at most n', '100')
    .action(async (o: { state?: string; device?: string; action?: string; limit: string }, cmd: Command) => {
      const g = globals(cmd);
      const q = new URLSearchParams({ limit: o.limit, ...(o.state ? { state: o.state } : {}), ...(o.device ? { device: o.device } : {}), ...(o.action ? { action: o.action } : {}) });
      const res = (await call(g, 'GET', `/v1/actions?${q}`)) as { items: ActionJson[]; next: string | null };
      out(g, res, () => table(res.items.map((a) => ({
        id: a.id, action: a.action, device: a.target.ip, state: a.state, mode: a.mode, playbook: a.playbook ?? 'manual', left: left(a.expiresAt),
      })), ['id', 'action', 'device', 'state', 'mode', 'playbook', 'left']));
    });
  actions.command('show <id>').description('one action with connectors and history').action(async (id: string, _o, cmd: Command) => {
    const g = globals(cmd);
    const a = (await call(g, 'GET', `/v1/actions/${encodeURIComponent(id)}`)) as ActionJson;
    out(g, a, () => showAction(a));
  });
  for (const verb of ['approve', 'deny', 'revert'] as const) {
    actions.command(`${verb} <id>`).description(`${verb} an action`).requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .action(async (id: string, o: { reason: string }, cmd: Command) => {
        const g = globals(cmd);
        const a = (await call(g, 'POST', `/v1/actions/${encodeURIComponent(id)}/${verb}`, { reason: o.reason })) as ActionJson;
        out(g, a, () => `${a.id}: ${a.state}`);
      });
  }
  actions.command('extend <id>').description('move the expiry of a live action').requiredOption('--ttl <duration>', 'new time limit from now, e.g. 2h')
    .option('--reason <text>').action(async (id: string, o: { ttl: string; reason?: string }, cmd: Command) => {
      const g = globals(cmd);
      const a = (await call(g, 'POST', `/v1/actions/${encodeURIComponent(id)}/extend`, { ttl: o.ttl, ...(o.reason ? { reason: o.reason } : {}) })) as ActionJson;
      out(g, a, () => `${a.id}: ${a.state}, expires ${a.expiresAt ?? '-'}`);
    });

  const mode = program.command('mode').description('get or set passive/active');
  mode.command('get').action(async (_o, cmd: Command) => {
    const g = globals(cmd);
    const r = (await call(g, 'GET', '/v1/mode')) as { mode: string };
    out(g, r, () => r.mode);
  });
  mode.command('set <mode>').option('--reason <text>').action(async (m: string, o: { reason?: string }, cmd: Command) => {
    const g = globals(cmd);
    if (m !== 'passive' && m !== 'active') throw new CliError('mode is passive or active');
    const r = (await call(g, 'PUT', '/v1/mode', { mode: m, ...(o.reason ? { reason: o.reason } : {}) })) as { mode: string };
    out(g, r, () => `mode: ${r.mode}`);
  });
  program.command('kill-switch').description('switch to passive and revert every active action (admin)')
    .requiredOption('--reason <text>').action(async (o: { reason: string }, cmd: Command) => {
      const g = globals(cmd);
      const r = (await call(g, 'POST', '/v1/kill-switch', { reason: o.reason })) as { reverted: number };
      out(g, r, () => `kill switch pulled: mode passive, ${r.reverted} action(s) being reverted`);
    });
  const audit = program.command('audit').description('the audit log');
  audit.command('verify').description('check the hash chain').action(async (_o, cmd: Command) => {
    const g = globals(cmd);
    const r = (await call(g, 'GET', '/v1/audit/verify')) as { ok: boolean; entries: number; problems: Array<{ seq: number | null; index: number; problem: string }> };
    out(g, r, () => (r.ok ? `audit chain OK (${r.entries} entries)` : [`audit chain BROKEN (${r.entries} entries):`, ...r.problems.map((p) => `  #${p.index} seq ${p.seq ?? '?'}: ${p.problem}`)].join('\n')));
    if (!r.ok) process.exitCode = 1;
  });
}
