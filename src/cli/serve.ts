// `sheriff serve` (run the controller) and `sheriff connectors list` (what each connector enforces and needs).
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connectorModules } from '../../connectors/index.js';
import { ConfigError, loadConfig, parseConfig, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { startSheriff, type Role } from '../main.js';
import { PlaybookLoadError } from '../playbooks/set.js';
import { CliError, table } from './client.js';

const DEFAULT_CONFIGS = ['sheriff.yaml', 'sheriff.example.yaml'];

export function resolveConfig(path: string | undefined): { config: Config; from: string } {
  try {
    if (path) return { config: loadConfig(path), from: path };
    const found = DEFAULT_CONFIGS.find((p) => existsSync(p));
    if (found) return { config: loadConfig(found), from: found };
    return { config: parseConfig({}), from: 'built-in defaults' };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`configuration problems:\n${err.problems.map((p) => `  ${p}`).join('\n')}`, 2);
    throw err;
  }
}

export function registerServeCommand(program: Command): void {
  program.command('serve').description('run the controller (HTTP API + workers)')
    .option('-c, --config <file>', 'config file (default ./sheriff.yaml, then ./sheriff.example.yaml)')
    .option('--role <role>', 'all | api | worker', 'all')
    .action(async (o: { config?: string; role: string }) => {
      if (!['all', 'api', 'worker'].includes(o.role)) throw new CliError('--role is all, api or worker', 2);
      const { config, from } = resolveConfig(o.config);
      const log = createLogger();
      let oneTimeToken: string | null = null;
      if (!config.auth.tokens.length) {
        oneTimeToken = randomBytes(24).toString('base64url');
        config.auth.tokens.push({ name: 'local-admin', role: 'admin', token: oneTimeToken });
      }
      let sheriff;
      try {
        sheriff = await startSheriff({ config, role: o.role as Role, log });
      } catch (err) {
        if (err instanceof PlaybookLoadError) throw new CliError(`playbook problems:\n${err.problems.map((p) => `  ${p}`).join('\n')}`, 2);
        throw err;
      }
      for (const [source, auth] of Object.entries(config.sources)) {
        if (auth?.allowUnauthenticated && !auth.secret && !auth.token) log.warn({ source }, `source ${source} accepts unauthenticated alerts (allowUnauthenticated: true)`);
      }
      const [host, port] = splitListen(config.listen);
      if (sheriff.app) await sheriff.app.listen({ host, port });
      const mode = await sheriff.service.getMode().catch(() => config.mode);
      console.log([
        `sheriff ${o.role} running (config: ${from}; mode: ${mode}; playbooks: ${sheriff.playbooks.current().length} from ${config.playbooks}; connectors: ${sheriff.registry.all.map((c) => `${c.name}(${c.type})`).join(', ')})`,
        ...(sheriff.app ? [
          `  listening on http://${config.listen}  (health: /healthz, readiness: /readyz, metrics: /metrics)`,
          oneTimeToken
            ? `  operator API and console: no auth.tokens configured, so this run has a one-time admin token:\n    export SHERIFF_URL=http://${config.listen} SHERIFF_TOKEN=${oneTimeToken}\n    (then: npx sheriff actions list; console: http://${config.listen}/)`
            : `  operator API and console: Authorization: Bearer <token> (${config.auth.tokens.map((t) => `${t.name}:${t.role}`).join(', ')})`,
          `  alerts: POST /v1/alerts/{darktrace|suricata|zeek|falco|alertmanager|generic} with X-Sheriff-Signature or a bearer token per source`,
        ] : []),
      ].join('\n'));
      const stop = async (signal: string) => {
        log.info({ signal }, 'shutting down; enforcement stays in place');
        await sheriff.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}

function splitListen(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), Number(listen.slice(i + 1))];
}

export function registerConnectorsCommand(program: Command): void {
  const cmd = program.commands.find((c) => c.name() === 'connectors') ?? program.command('connectors').description('connector types and the configured connectors');
  cmd.command('list').description('each connector type: what it enforces and the privileges it needs; and the configured ones')
    .option('-c, --config <file>', 'config file').action((o: { config?: string }, c: Command) => {
      const json = Boolean(c.optsWithGlobals().json);
      const { config, from } = resolveConfig(o.config);
      const types = Object.values(connectorModules).map((m) => ({ type: m.type, capabilities: m.capabilities, description: m.description, privileges: m.privileges }));
      const configured = Object.entries(config.connectors).map(([name, e]) => ({ name, type: e.type, scope: e.scope ?? ['(every device)'] }));
      if (json) {
        console.log(JSON.stringify({ types, configured }, null, 2));
        return;
      }
      for (const t of types) {
        console.log(`${t.type}\n  ${t.description}\n  enforces: ${t.capabilities.join(', ')}\n  needs: ${t.privileges}\n`);
      }
      console.log(`configured (${from}):`);
      console.log(table(configured.map((x) => ({ name: x.name, type: x.type, scope: x.scope.join(' ') })), ['name', 'type', 'scope']));
    });
}
