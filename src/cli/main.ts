// The `sheriff` command line: serve, offline tools (validate, replay, catalog) and operator commands over the API.
import { Command, CommanderError } from 'commander';
import { registerClientCommands, CliError } from './client.js';
import { registerServeCommand, registerConnectorsCommand } from './serve.js';
import { registerCatalogCommand, registerPlaybooksCommand, registerReplayCommand } from './offline.js';

const program = new Command('sheriff')
  .description('Autonomous response controller: detector alerts in, targeted, time-limited containment out.')
  .option('--url <url>', 'sheriff API URL (default $SHERIFF_URL or http://127.0.0.1:8080)')
  .option('--token <token>', 'operator token (default $SHERIFF_TOKEN)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .exitOverride();

registerServeCommand(program);
registerConnectorsCommand(program);
registerPlaybooksCommand(program);
registerReplayCommand(program);
registerCatalogCommand(program);
registerClientCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    console.error(`sheriff: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`sheriff: ${(err as Error).message ?? String(err)}`);
    process.exitCode = 1;
  }
}
