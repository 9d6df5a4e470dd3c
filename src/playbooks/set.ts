// The playbooks in force for a running sheriff: initial load (fatal when bad), hot reload, a summary for the API.
import type { ConnectorInfo } from '../decide/types.js';
import type { Logger } from '../log.js';
import type { CompiledPlaybook } from './match.js';
import { watchPlaybooks, type PlaybookWatcher } from './watch.js';

export class PlaybookLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`playbook problems:\n${problems.join('\n')}`);
  }
}

export class PlaybookSet {
  private watcher: PlaybookWatcher | null = null;

  constructor(
    private readonly path: string,
    private readonly connectors: readonly ConnectorInfo[],
    private readonly log: Logger,
    private readonly onReload: (problems: string[], ok: boolean) => void,
  ) {}

  /** Loads and starts watching; a bad initial set stops startup with every problem listed. */
  loadOrThrow(): void {
    let started = false;
    const w = watchPlaybooks({
      path: this.path,
      connectors: this.connectors,
      onLoad: (pbs) => {
        if (started) {
          this.log.info({ count: pbs.length }, 'playbooks reloaded');
          this.onReload([], true);
        }
      },
      onProblems: (problems) => {
        if (started) {
          this.log.error({ problems }, 'playbook reload refused; the previous playbooks stay in force');
          this.onReload(problems, false);
        }
      },
    });
    if (w.initialProblems.length) {
      w.close();
      throw new PlaybookLoadError(w.initialProblems);
    }
    started = true;
    this.watcher = w;
  }

  current(): readonly CompiledPlaybook[] {
    return this.watcher?.current() ?? [];
  }

  reload(): boolean {
    return this.watcher?.reload() ?? false;
  }

  describe(): unknown[] {
    return this.current().map((p) => ({
      name: p.playbook.name,
      description: p.playbook.description,
      enabled: p.playbook.enabled,
      match: p.playbook.match,
      respond: p.playbook.respond,
    }));
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
