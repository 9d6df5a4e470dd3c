// `sheriff actions catalog`: what every action does, its params and defaults, and which connector types offer it.
import type { Command } from 'commander';
import { z } from 'zod';
import { actionModules } from '../../actions/index.js';
import { connectorModules } from '../../connectors/index.js';
import { actionNames } from '../contracts/action.js';

export interface CatalogEntry {
  name: string;
  description: string;
  capability: string;
  defaultTtl: string;
  params: { name: string; type: string; default?: unknown; optional: boolean }[];
  example: unknown;
  connectorTypes: string[];
}

export function formatMs(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let rest = ms;
  let out = '';
  for (const [u, n] of units) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out || `${ms}ms`;
}

function describeParams(schema: z.ZodType): CatalogEntry['params'] {
  // JSON Schema is zod's own description of the params: types and defaults without walking zod internals.
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; default?: unknown; items?: { type?: string } }>;
    required?: string[];
  };
  // Defaults come from parsing an empty object: exact even where JSON Schema cannot express a transform.
  const parsedDefaults = schema.safeParse({});
  const defaults = (parsedDefaults.success ? parsedDefaults.data : {}) as Record<string, unknown>;
  return Object.entries(js.properties ?? {}).map(([name, p]) => ({
    name,
    type: p.type === 'array' ? `${p.items?.type ?? 'any'}[]` : (p.type ?? 'any'),
    ...(defaults[name] === undefined ? {} : { default: defaults[name] }),
    optional: !(js.required ?? []).includes(name),
  }));
}

export function catalog(): CatalogEntry[] {
  return actionNames.map((name) => {
    const m = actionModules[name];
    return {
      name,
      description: m.description,
      capability: m.capability,
      defaultTtl: formatMs(m.defaultTtlMs),
      params: describeParams(m.params),
      example: m.example,
      connectorTypes: Object.values(connectorModules).filter((c) => c.capabilities.includes(m.capability)).map((c) => c.type).sort(),
    };
  });
}

export function printCatalog(json: boolean): string {
  const entries = catalog();
  if (json) return `${JSON.stringify(entries, null, 2)}\n`;
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(`${e.name}`, `  ${e.description}`, `  capability: ${e.capability}    default ttl: ${e.defaultTtl}`, '  params:');
    for (const p of e.params) {
      lines.push(`    ${p.name}: ${p.type}${p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : p.optional ? ' (optional)' : ''}`);
    }
    lines.push(`  offered by connector types: ${e.connectorTypes.join(', ') || '(none registered)'}`);
    lines.push(`  example: ${JSON.stringify(e.example)}`, '');
  }
  return lines.join('\n');
}

/** Adds `catalog` under the `actions` command (created when the lead's CLI has not added it yet). */
export function registerCatalogCommand(program: Command): void {
  const actions = program.commands.find((c) => c.name() === 'actions') ?? program.command('actions').description('actions: catalogue and operator commands');
  actions.command('catalog')
    .description('what each action does, its params, default TTL, and which connector types offer it')
    .option('--json', 'JSON output')
    .action((opts: { json?: boolean }, cmd: Command) => {
      process.stdout.write(printCatalog(opts.json === true || cmd.optsWithGlobals().json === true));
    });
}
