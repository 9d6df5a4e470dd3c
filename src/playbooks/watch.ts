// Hot reload of playbooks on SIGHUP and on file change (debounced); a bad reload keeps the previous set.
import { watch, type FSWatcher } from 'node:fs';
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ConnectorInfo } from '../decide/types.js';
import { loadPlaybooks } from './load.js';
import type { CompiledPlaybook } from './match.js';

export interface PlaybookWatcherOptions {
  path: string;
  connectors: readonly ConnectorInfo[];
  /** A good set was loaded (also called for the initial load when it is good). */
  onLoad?: (playbooks: CompiledPlaybook[]) => void;
  /** A load found problems; the previous playbooks stay in force. The lead audits this. */
  onProblems?: (problems: string[]) => void;
  debounceMs?: number;
  /** Listen for SIGHUP (default true). */
  sighup?: boolean;
}

export interface PlaybookWatcher {
  /** The playbooks in force. */
  current(): CompiledPlaybook[];
  /** Problems of the initial load (empty when it was good). */
  readonly initialProblems: string[];
  /** Reloads now; true when the new set is in force. */
  reload(): boolean;
  close(): void;
}

export function watchPlaybooks(opts: PlaybookWatcherOptions): PlaybookWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  let playbooks: CompiledPlaybook[] = [];
  let timer: NodeJS.Timeout | undefined;
  let fsw: FSWatcher | undefined;

  const reload = (): boolean => {
    const r = loadPlaybooks(opts.path, opts.connectors);
    if (r.problems.length) {
      opts.onProblems?.(r.problems);
      return false;
    }
    playbooks = r.playbooks;
    opts.onLoad?.(playbooks);
    return true;
  };

  const first = loadPlaybooks(opts.path, opts.connectors);
  const initialProblems = first.problems;
  if (first.problems.length) opts.onProblems?.(first.problems);
  else {
    playbooks = first.playbooks;
    opts.onLoad?.(playbooks);
  }

  const schedule = () => {
    // Editors write a file in several steps (truncate, write, rename): wait for the dust to settle.
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, debounceMs);
  };

  let isDir = false;
  try {
    isDir = statSync(opts.path).isDirectory();
  } catch {
    // A missing path was reported by the load; watch its folder so it is picked up once it appears.
  }
  // A single file is watched through its folder: editors replace files, which ends a watch on the file itself.
  const watched = isDir ? opts.path : dirname(opts.path);
  const only = isDir ? null : basename(opts.path);
  try {
    fsw = watch(watched, { persistent: false }, (_event, name) => {
      const file = name?.toString();
      if (only !== null && file !== undefined && file !== only) return;
      if (isDir && file !== undefined && !/\.ya?ml$/.test(file)) return;
      schedule();
    });
    fsw.on('error', () => schedule());
  } catch (err) {
    opts.onProblems?.([`${watched}: cannot watch for changes (${(err as NodeJS.ErrnoException).code ?? String(err)}); reload with SIGHUP`]);
  }

  const onHup = () => { reload(); };
  if (opts.sighup !== false) process.on('SIGHUP', onHup);

  return {
    current: () => playbooks,
    initialProblems,
    reload,
    close() {
      if (timer) clearTimeout(timer);
      fsw?.close();
      process.off('SIGHUP', onHup);
    },
  };
}
