// Types of the fake RouterOS API server (plain JS so that operators can run it with `node`).
export interface LoggedSentence { conn: number; words: string[] }
export interface FakeEntry { id: string; list: string; address: string; expiresAt: number | null; comment?: string; disabled: boolean; created: number }
export interface FakeRule { id: string; dynamic: boolean; props: Record<string, string> }
export interface FakeScript { id: string; name: string; source: string; policy: string; runs: number }

export declare class FakeRouter {
  emptyReply: boolean;
  entries: Map<string, FakeEntry>;
  filter: FakeRule[];
  scripts: Map<string, FakeScript>;
  now(): number;
  advance(ms: number): void;
  reboot(): void;
  seedRule(props: Record<string, string>, dynamic?: boolean): string;
  entriesOf(list: string): FakeEntry[];
  execute(command: string, attrs: Map<string, string>, queries: string[]): string[][];
}

export declare class FakeRouterOsServer {
  constructor(opts?: { users?: { name: string; password: string }[]; emptyReply?: boolean; tls?: { key: string | Buffer; cert: string | Buffer } });
  router: FakeRouter;
  log: LoggedSentence[];
  refuseLogin: boolean;
  delayMs: number;
  dropOn: { command: string; nth: number; when: 'before' | 'after' } | null;
  listen(port?: number, host?: string): Promise<number>;
  readonly port: number;
  dropConnections(): void;
  reboot(): void;
  fatal(reason: string): void;
  wireText(): string;
  commands(command: string): string[][];
  close(): Promise<void>;
}
