// Offline commands (no Redis, no connectors): playbooks validate, replay, actions catalog.
import type { Command } from 'commander';
import { registerCatalogCommand as catalog } from './catalog.js';
import { registerPlaybooksCommand as playbooks } from './playbooks.js';
import { registerReplayCommand as replay } from './replay.js';
import { normaliseForReplay } from '../ingest/wire.js';

export const registerCatalogCommand = (p: Command) => catalog(p);
export const registerPlaybooksCommand = (p: Command) => playbooks(p);
export const registerReplayCommand = (p: Command) => replay(p, { normalise: normaliseForReplay });
