// `sheriff replay FILE`: prints the decision timeline of recorded alerts, offline (no Redis, no connectors).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { SourceName } from '../contracts/alert.js';
import { ConfigError, type Config } from '../config.js';
import { replay, type Normaliser, type ReplayEvent } from '../decide/replay.js';
import { connectorInfos } from '../decide/types.js';
import { loadPlaybooks } from '../playbooks/load.js';
import { configAndPlaybooks, type CliResult } from './playbooks.js';

export { replay, type Normaliser, type ReplayEvent };

function connectorLabel(config: Config, names: string[]): string {
  const infos = connectorInfos(config);
  return names.map((n) => `${n} (${infos.find((i) => i.name === n)?.type ?? '?'})`).join(', ');
}

export function formatTimeline(events: readonly ReplayEvent[], config: Config): string {
  const out: string[] = [];
  for (const e of events) {
    switch (e.kind) {
      case 'error':
        out.push(`line ${e.line}: refused: ${e.message}`);
        break;
      case 'alert': {
        const a = e.alert;
        const dev = `${a.device.ip}${a.device.hostname ? ` (${a.device.hostname})` : ''}`;
        const peer = a.peer?.ip ? ` peer ${a.peer.ip}${a.peer.port ? `:${a.peer.port}` : ''}` : '';
        out.push(`${e.at}  ALERT ${a.id} ${a.source} "${a.name}" score ${a.score} device ${dev}${peer}${e.duplicate ? ' — duplicate id, dropped (ingest would not queue it)' : ''}`);
        break;
      }
      case 'skipped':
        out.push(`    - SKIP ${e.playbook}${e.action ? ` ${e.action}` : ''}: ${e.reason}`);
        break;
      case 'expire':
        out.push(`${e.at}  EXPIRE ${e.actionId} ${e.action} on ${e.target.ip}: ${e.reason}`);
        break;
      case 'decision': {
        const what = `${e.action} ${JSON.stringify(e.params)} on ${e.target.ip}`;
        const esc = e.escalation ? ' [escalation]' : '';
        if (e.outcome === 'enforce') out.push(`    → ENFORCE ${e.actionId} ${what}${esc} via ${connectorLabel(config, e.connectors)}; expires ${e.expiresAt}`);
        else if (e.outcome === 'pending_approval') out.push(`    → APPROVAL NEEDED ${e.actionId} ${what}${esc} (coverable by ${connectorLabel(config, e.connectors)}; lapses after ${config.approval.ttl / 60_000} min unanswered)`);
        else if (e.outcome === 'extend') out.push(`    → EXTEND ${e.actionId} ${what}${esc}: ${e.notes.join('; ')}`);
        else out.push(`    → ${e.outcome.toUpperCase()} ${what}${esc}`);
        for (const n of e.outcome === 'extend' ? [] : e.notes) out.push(`      note: ${n}`);
        out.push(`      why: ${e.reason}`);
        break;
      }
    }
  }
  return `${out.join('\n')}\n`;
}

export interface ReplayCliOptions {
  source?: string;
  playbooks?: string;
  config?: string;
  json?: boolean;
  normalise?: Normaliser;
}

/** The whole command as a function (for tests and the lead's CLI): exit code and output. */
export async function runReplay(file: string, opts: ReplayCliOptions): Promise<CliResult> {
  let source: SourceName | undefined;
  if (opts.source !== undefined) {
    const s = SourceName.safeParse(opts.source);
    if (!s.success) return { code: 2, output: `--source: unknown source "${opts.source.slice(0, 40)}" (known: ${SourceName.options.join(', ')})\n` };
    source = s.data;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { code: 2, output: `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})\n` };
  }
  let setup: ReturnType<typeof configAndPlaybooks>;
  try {
    setup = configAndPlaybooks(opts.config, opts.playbooks);
  } catch (err) {
    return { code: 2, output: `${err instanceof ConfigError ? err.message : String(err)}\n` };
  }
  const loaded = loadPlaybooks(setup.playbooks, connectorInfos(setup.config));
  if (loaded.problems.length) return { code: 2, output: `${loaded.problems.join('\n')}\nplaybooks in ${setup.playbooks} have problems; fix them first (sheriff playbooks validate)\n` };
  const events = await replay(text.split('\n'), {
    playbooks: loaded.playbooks, config: setup.config,
    ...(source ? { source } : {}), ...(opts.normalise ? { normalise: opts.normalise } : {}),
  });
  const code = events.some((e) => e.kind === 'error') ? 1 : 0;
  return { code, output: opts.json ? `${JSON.stringify({ events }, null, 2)}\n` : formatTimeline(events, setup.config) };
}

/** `deps.normalise` is the ingest normaliser (src/ingest), wired by the composition root for --source. */
export function registerReplayCommand(program: Command, deps: { normalise?: Normaliser } = {}): void {
  program.command('replay <file>')
    .description('offline: run recorded alerts (one per line) through the playbooks and print the decision timeline')
    .option('--source <name>', 'lines are this detector\'s own payloads (darktrace, suricata, zeek, falco, alertmanager, generic)')
    .option('--playbooks <dir>', 'playbooks file or folder (default: the config\'s playbooks)')
    .option('--config <file>', 'sheriff.yaml (connectors, protected assets, limits, TTLs)')
    .option('--json', 'JSON output')
    .action(async (file: string, opts: ReplayCliOptions) => {
      const r = await runReplay(file, { ...opts, ...(deps.normalise ? { normalise: deps.normalise } : {}) });
      // Exit 2: nothing replayed (bad file, config or playbooks); 1: a timeline, but some lines were refused.
      (r.code === 2 ? process.stderr : process.stdout).write(r.output);
      process.exitCode = r.code;
    });
}
