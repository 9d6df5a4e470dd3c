// `sheriff playbooks validate [DIR]`: schema, action params and connector capabilities; exit 1 on any problem.
import type { Command } from 'commander';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfig, parseConfig, type Config } from '../config.js';
import { connectorInfos, type ConnectorInfo } from '../decide/types.js';
import { loadPlaybooks } from '../playbooks/load.js';

export interface CliResult {
  code: number;
  output: string;
}

export function validatePlaybooks(dir: string, connectors: readonly ConnectorInfo[]): CliResult {
  const r = loadPlaybooks(dir, connectors);
  if (r.problems.length) {
    const n = r.problems.length;
    return { code: 1, output: `${r.problems.join('\n')}\n${n} problem${n === 1 ? '' : 's'} in ${dir}\n` };
  }
  const n = r.playbooks.length;
  return { code: 0, output: `${n} playbook${n === 1 ? '' : 's'} OK\n` };
}

/** The config (or the defaults: one `log` connector) and the playbooks path it names, relative to the config file. */
export function configAndPlaybooks(configPath: string | undefined, playbooks: string | undefined): { config: Config; playbooks: string } {
  const config = configPath ? loadConfig(configPath) : parseConfig({});
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const path = playbooks ?? (isAbsolute(config.playbooks) ? config.playbooks : resolve(base, config.playbooks));
  return { config, playbooks: path };
}

export function registerPlaybooksCommand(program: Command): void {
  const cmd = program.commands.find((c) => c.name() === 'playbooks') ?? program.command('playbooks').description('playbook tools');
  cmd.command('validate [dir]')
    .description('check playbooks: schema, action params, capabilities of the configured connectors (exit 1 on any problem)')
    .option('--config <file>', 'sheriff.yaml whose connectors must offer the actions (default: only the log connector)')
    .action((dir: string | undefined, opts: { config?: string }) => {
      try {
        const { config, playbooks } = configAndPlaybooks(opts.config, dir);
        const r = validatePlaybooks(playbooks, connectorInfos(config));
        (r.code ? process.stderr : process.stdout).write(r.output);
        process.exitCode = r.code;
      } catch (err) {
        process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
