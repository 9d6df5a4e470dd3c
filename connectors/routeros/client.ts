// RouterOS API client: a small pool of logged-in connections, reconnect with backoff, per-command timeouts, typed errors.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { RouterOSAPI } from 'node-routeros';
import { ConnectorError } from '../../src/errors.js';
import { patchEmptyReply } from './empty-reply-patch.js';

export interface ClientOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  tls: boolean;
  tlsInsecure: boolean;
  ca?: string;
  caFile?: string;
  timeoutMs: number;
  poolSize: number;
}

export type Row = Record<string, string>;

/** The only commands sheriff ever sends. */
const COMMANDS = new Set([
  '/ip/firewall/address-list/add', '/ip/firewall/address-list/print', '/ip/firewall/address-list/set', '/ip/firewall/address-list/remove',
  '/ip/firewall/filter/add', '/ip/firewall/filter/print', '/ip/firewall/filter/remove', '/ip/firewall/filter/move',
  '/system/script/add', '/system/script/print', '/system/script/run', '/system/script/remove', '/system/identity/print',
]);
const NAME = /^\.?[a-z][a-z0-9-]{0,31}$/;
/** Values are IPs, list names, numbers, durations, ids, `sheriff:` comments: no `=`, quotes, `$`, `;`, CR/LF, NUL. */
const VALUE = /^[A-Za-z0-9 .:/,!*_+-]{0,256}$/;
/** Script sources additionally need quotes, braces and brackets, but never `$`, `;`, `\`, `(`, CR or NUL. */
const SCRIPT_LINE = /^[A-Za-z0-9 .:/,!*_+"{}[\]=-]{1,512}$/;
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/;

/** Builds the words of one sentence, refusing anything that is not a known command, name or tame value. */
export function sentence(command: string, attrs: Record<string, string> = {}, queries: Record<string, string> = {}): string[] {
  if (!COMMANDS.has(command)) throw new Error(`refusing unknown RouterOS command ${JSON.stringify(command.slice(0, 64))}`);
  const words: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    const ok = NAME.test(k) && (k === 'source' && command === '/system/script/add' ? v.split('\n').every((l) => SCRIPT_LINE.test(l)) && v.length < 200_000 : VALUE.test(v));
    if (!ok) throw new Error(`refusing RouterOS attribute ${JSON.stringify(k.slice(0, 32))}`);
    words.push(`=${k}=${v}`);
  }
  for (const [k, v] of Object.entries(queries)) {
    if (!NAME.test(k) || !VALUE.test(v)) throw new Error(`refusing RouterOS query ${JSON.stringify(k.slice(0, 32))}`);
    words.push(`?${k}=${v}`);
  }
  return words;
}

/** The router answered `!trap`: its message, kept so that callers can recognise "already have such entry" and friends. */
export function trapMessage(err: unknown): string | undefined {
  if (err instanceof ConnectorError && err.code === 'CONNECTOR_REJECTED') return (err.details as { trap?: string } | undefined)?.trap;
  return undefined;
}

interface Conn {
  api: RouterOSAPI;
  alive: boolean;
  inflight: number;
  onDrop: Set<(err: ConnectorError) => void>;
}

type Lib = typeof import('node-routeros');

export class RosClient {
  private readonly slots: (Conn | null)[];
  private readonly connecting: (Promise<Conn> | null)[];
  private next = 0;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private lib: Lib | undefined;

  constructor(private readonly name: string, private readonly o: ClientOptions) {
    this.slots = new Array<Conn | null>(o.poolSize).fill(null);
    this.connecting = new Array<Promise<Conn> | null>(o.poolSize).fill(null);
  }

  private err(code: ConstructorParameters<typeof ConnectorError>[1], message: string, opts: ConstructorParameters<typeof ConnectorError>[3] = {}): ConnectorError {
    return new ConnectorError(this.name, code, message, opts);
  }

  private async loadLib(): Promise<Lib> {
    if (!this.lib) {
      const mod = (await import('node-routeros')) as Lib & { default?: Lib };
      const lib = (mod.RouterOSAPI ? mod : mod.default) as Lib;
      patchEmptyReply(lib.Channel);
      this.lib = lib;
    }
    return this.lib;
  }

  private where(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  private async connect(): Promise<Conn> {
    if (this.closed) throw this.err('CONNECTOR_UNAVAILABLE', 'connector is closed');
    const now = Date.now();
    if (now < this.retryAt) {
      throw this.err('CONNECTOR_UNAVAILABLE', `RouterOS API at ${this.where()} unreachable; next attempt after backoff`, { retryAt: this.retryAt });
    }
    const lib = await this.loadLib();
    const tls = this.o.tls ? {
      rejectUnauthorized: !this.o.tlsInsecure,
      ...(this.o.ca ? { ca: this.o.ca } : this.o.caFile ? { ca: await readFile(this.o.caFile, 'utf8') } : {}),
      ...(isIP(this.o.host) ? {} : { servername: this.o.host }),
    } : undefined;
    // The library's own timeout is the socket idle timeout; ours bounds the connect + login.
    const api = new lib.RouterOSAPI({ host: this.o.host, port: this.o.port, user: this.o.user, password: this.o.password, timeout: 300, ...(tls ? { tls } : {}) });
    const conn: Conn = { api, alive: false, inflight: 0, onDrop: new Set() };
    api.on('error', () => this.markDead(conn));
    let socketError: NodeJS.ErrnoException | undefined;
    let timer: NodeJS.Timeout | undefined;
    const connecting = api.connect();
    // The library replaces socket errors with code-less exceptions: keep the original for a useful message.
    const socket = (api as unknown as { connector?: { socket?: Socket } }).connector?.socket;
    socket?.on('error', (e: NodeJS.ErrnoException) => { socketError ??= e; });
    socket?.once('close', () => this.markDead(conn));
    try {
      await Promise.race([connecting, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('connect timeout')), this.o.timeoutMs); })]);
    } catch (e) {
      dispose(api);
      socket?.destroy();
      throw this.connectError(e, socketError);
    } finally {
      clearTimeout(timer);
    }
    conn.alive = true;
    this.failures = 0;
    this.retryAt = 0;
    return conn;
  }

  private connectError(e: unknown, socketError: NodeJS.ErrnoException | undefined): ConnectorError {
    const errno = (e as { errno?: unknown } | null)?.errno;
    const message = e instanceof Error ? e.message : String(e);
    if (errno === 'CANTLOGIN' || /invalid user name or password|cannot log in/i.test(message)) {
      return this.err('CONNECTOR_AUTH', `RouterOS at ${this.where()} refused the login of user "${this.o.user}": wrong user name or password`, { retryable: false });
    }
    if (/not allowed|permission/i.test(message)) {
      return this.err('CONNECTOR_AUTH', `RouterOS at ${this.where()} refused user "${this.o.user}": its group lacks the api policy (${message.slice(0, 80)})`, { retryable: false });
    }
    const code = socketError?.code ?? '';
    if (CERT_ERRORS.test(code) || CERT_ERRORS.test(socketError?.message ?? '')) {
      return this.err('CONNECTOR_AUTH', `TLS: the certificate of ${this.where()} is not trusted (${code || socketError?.message}); set ca/caFile, or tlsInsecure: true`, { retryable: false });
    }
    this.failures++;
    this.retryAt = Date.now() + Math.min(30_000, 250 * 2 ** Math.min(this.failures - 1, 7)) * (0.75 + Math.random() * 0.5);
    const reason = code || (errno === 'SOCKTMOUT' || message === 'connect timeout' ? 'timed out' : message || 'connection failed');
    return this.err('CONNECTOR_UNAVAILABLE', `cannot reach the RouterOS API at ${this.where()} (${reason})`, { retryAt: this.retryAt });
  }

  private markDead(conn: Conn): void {
    if (!conn.alive && conn.onDrop.size === 0) return;
    conn.alive = false;
    const i = this.slots.indexOf(conn);
    if (i >= 0) this.slots[i] = null;
    const err = this.err('CONNECTOR_UNAVAILABLE', `the connection to ${this.where()} dropped`);
    for (const f of conn.onDrop) f(err);
    conn.onDrop.clear();
    dispose(conn.api);
  }

  private async acquire(): Promise<Conn> {
    const i = this.next;
    this.next = (this.next + 1) % this.slots.length;
    const have = this.slots[i];
    if (have?.alive) return have;
    let pending = this.connecting[i];
    if (!pending) {
      pending = this.connect().then((c) => { this.slots[i] = c; return c; }).finally(() => { this.connecting[i] = null; });
      this.connecting[i] = pending;
    }
    return pending;
  }

  /**
   * Sends one command and resolves with its `!re` rows; `!trap` becomes CONNECTOR_REJECTED carrying the message.
   * A print that meets a connection dropped under it (a reboot, an idle cut) is sent once more on a fresh one;
   * writes are not, since the router may have executed them: their callers are idempotent and the worker retries.
   */
  async run(command: string, attrs: Record<string, string> = {}, queries: Record<string, string> = {}, timeoutMs = this.o.timeoutMs): Promise<Row[]> {
    const words = sentence(command, attrs, queries);
    // Every pooled connection may have been cut at once: a print may go through all of them.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(command, words, timeoutMs);
      } catch (err) {
        const dropped = err instanceof ConnectorError && err.code === 'CONNECTOR_UNAVAILABLE' && err.retryAt === undefined;
        if (!command.endsWith('/print') || !dropped || attempt >= this.slots.length) throw err;
      }
    }
  }

  private async send(command: string, words: string[], timeoutMs: number): Promise<Row[]> {
    const conn = await this.acquire();
    conn.inflight++;
    return new Promise<Row[]>((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.inflight--;
        conn.onDrop.delete(onDrop);
        f();
      };
      const onDrop = (err: ConnectorError) => finish(() => reject(err));
      const timer = setTimeout(() => {
        finish(() => reject(this.err('CONNECTOR_TIMEOUT', `${command} got no answer from ${this.where()} within ${timeoutMs} ms`)));
        // A late reply would arrive on a connection we no longer trust to be in step: start afresh.
        this.markDead(conn);
      }, timeoutMs);
      conn.onDrop.add(onDrop);
      conn.api.write(command, words).then(
        (rows) => finish(() => resolve(rows as Row[])),
        (e: unknown) => finish(() => {
          const message = (e instanceof Error ? e.message : String(e)).slice(0, 200);
          reject(this.err('CONNECTOR_REJECTED', `router refused ${command}: ${message}`, { details: { trap: message } }));
        }),
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const conns = this.slots.filter((c): c is Conn => c !== null);
    this.slots.fill(null);
    await Promise.all(conns.map(async (c) => {
      c.alive = false;
      await Promise.race([c.api.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      dispose(c.api);
    }));
  }
}

/**
 * Tears a library connection down for good. node-routeros keeps a "hold" timer (sending `#` every half
 * idle-timeout) while any channel is open; a channel whose connection died never closes, so the timer
 * would keep the process alive and write into a dead socket.
 */
function dispose(api: RouterOSAPI): void {
  const inner = api as unknown as { connectionHoldInterval?: NodeJS.Timeout; keptaliveby?: NodeJS.Timeout; connector?: { destroy(): void } };
  clearTimeout(inner.connectionHoldInterval);
  clearTimeout(inner.keptaliveby);
  try { inner.connector?.destroy(); } catch { /* already gone */ }
}
