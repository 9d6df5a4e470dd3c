#!/usr/bin/env node
// A RouterOS API server for tests and demos: plain TCP or TLS on 127.0.0.1, with switches to misbehave like real routers.
import net from 'node:net';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { encodeSentence, SentenceReader } from './protocol.js';
import { FakeRouter, Trap } from './router.js';

/**
 * @typedef {{ conn: number, words: string[] }} LoggedSentence
 * @typedef {{ command: string, nth: number, when: 'before' | 'after' }} DropRule
 * @typedef {{
 *   users?: { name: string, password: string }[],
 *   emptyReply?: boolean,
 *   tls?: { key: string | Buffer, cert: string | Buffer },
 * }} FakeOptions
 */

export class FakeRouterOsServer {
  /** @param {FakeOptions} [opts] */
  constructor(opts = {}) {
    this.router = new FakeRouter({ emptyReply: opts.emptyReply ?? true });
    this.users = opts.users ?? [{ name: 'sheriff', password: 'sheriff' }];
    this.tlsOptions = opts.tls;
    /** Every sentence received, in order, exactly as it came off the wire. @type {LoggedSentence[]} */
    this.log = [];
    /** Switch: answer every login with "invalid user name or password". */
    this.refuseLogin = false;
    /** Switch: wait this long before answering each sentence. */
    this.delayMs = 0;
    /** Switch: cut the connection at the nth matching command, before or after executing it. @type {DropRule | null} */
    this.dropOn = null;
    /** @type {Set<net.Socket>} */
    this.sockets = new Set();
    this.connCount = 0;
    /** @type {net.Server | null} */
    this.server = null;
  }

  /** @param {number} [port] @param {string} [host] @returns {Promise<number>} */
  listen(port = 0, host = '127.0.0.1') {
    const onSocket = (/** @type {net.Socket} */ s) => this.handle(s);
    this.server = this.tlsOptions ? tls.createServer(this.tlsOptions, onSocket) : net.createServer(onSocket);
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(/** @type {net.AddressInfo} */ (server.address()).port));
    });
  }

  get port() {
    const addr = /** @type {net.AddressInfo | null} */ (this.server ? this.server.address() : null);
    return addr ? addr.port : 0;
  }

  /** Cuts every open API connection without a word, as a network failure would. */
  dropConnections() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** A reboot: dynamic address-list entries vanish and every connection drops. */
  reboot() {
    this.router.reboot();
    this.dropConnections();
  }

  /** Sends `!fatal` with a reason and closes, as RouterOS does when it ends a session. @param {string} reason */
  fatal(reason) {
    for (const s of this.sockets) s.end(encodeSentence(['!fatal', reason]));
    this.sockets.clear();
  }

  /** All words ever received, as one string (for "this never reached the wire" assertions). */
  wireText() {
    return this.log.map((l) => l.words.join('\n')).join('\n\n');
  }

  /** Received sentences whose command word is `command`. @param {string} command */
  commands(command) {
    return this.log.filter((l) => l.words[0] === command).map((l) => l.words);
  }

  /** @returns {Promise<void>} */
  close() {
    this.dropConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** @param {net.Socket} socket */
  handle(socket) {
    const conn = ++this.connCount;
    this.sockets.add(socket);
    const reader = new SentenceReader();
    const session = { loggedIn: false };
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk) => {
      let sentences;
      try {
        sentences = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const words of sentences) this.onSentence(conn, socket, session, words);
    });
  }

  /**
   * @param {number} conn
   * @param {net.Socket} socket
   * @param {{ loggedIn: boolean }} session
   * @param {string[]} words
   */
  onSentence(conn, socket, session, words) {
    if (socket.destroyed) return;
    this.log.push({ conn, words });
    const [command = ''] = words;
    /** @type {Map<string,string>} */
    const attrs = new Map();
    /** @type {string[]} */
    const queries = [];
    /** @type {string | undefined} */
    let tag;
    for (const w of words.slice(1)) {
      if (w.startsWith('.tag=')) tag = w.slice(5);
      else if (w.startsWith('?')) queries.push(w);
      else if (w.startsWith('=')) {
        const eq = w.indexOf('=', 1);
        if (eq < 0) attrs.set(w.slice(1), '');
        else attrs.set(w.slice(1, eq), w.slice(eq + 1));
      }
    }
    const drop = this.dropOn && this.dropOn.command === command && --this.dropOn.nth === 0 ? this.dropOn : null;
    if (drop) this.dropOn = null;
    if (drop?.when === 'before') {
      socket.destroy();
      return;
    }
    /** @type {string[][]} */
    let reply;
    try {
      reply = this.dispatch(session, command, attrs, queries);
    } catch (err) {
      const trap = err instanceof Trap ? err : new Trap(String(/** @type {Error} */ (err).message), 4);
      reply = [['!trap', ...(trap.category === undefined ? [] : [`=category=${trap.category}`]), `=message=${trap.message}`], ['!done']];
    }
    if (drop) {
      socket.destroy();
      return;
    }
    if (command === '/quit') {
      socket.end(encodeSentence(['!fatal', 'session terminated on request']));
      return;
    }
    const bytes = Buffer.concat(reply.map((s) => encodeSentence(tag === undefined ? s : [s[0] ?? '', `.tag=${tag}`, ...s.slice(1)])));
    if (this.delayMs > 0) setTimeout(() => { if (!socket.destroyed) socket.write(bytes); }, this.delayMs);
    else socket.write(bytes);
  }

  /**
   * @param {{ loggedIn: boolean }} session
   * @param {string} command
   * @param {Map<string,string>} attrs
   * @param {string[]} queries
   * @returns {string[][]}
   */
  dispatch(session, command, attrs, queries) {
    if (command === '/login') {
      const name = attrs.get('name');
      const ok = !this.refuseLogin && this.users.some((u) => u.name === name && u.password === attrs.get('password'));
      if (!ok) throw new Trap('invalid user name or password (6)');
      session.loggedIn = true;
      return [['!done']];
    }
    if (command === '/quit') return [];
    if (!session.loggedIn) throw new Trap('not logged in', 5);
    if (command === '/cancel') return [['!done']];
    return this.router.execute(command, attrs, queries);
  }
}

function main() {
  const args = process.argv.slice(2);
  const opt = (/** @type {string} */ name, /** @type {string} */ dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? /** @type {string} */ (args[i + 1]) : dflt;
  };
  const fake = new FakeRouterOsServer({
    users: [{ name: opt('user', 'sheriff'), password: opt('password', 'sheriff') }],
    emptyReply: !args.includes('--no-empty'),
  });
  const verbose = args.includes('--verbose');
  if (verbose) {
    const push = fake.log.push.bind(fake.log);
    fake.log.push = (...items) => {
      for (const i of items) console.log(`[conn ${i.conn}] ${i.words.filter((w) => !w.startsWith('=password=')).join(' ')}`);
      return push(...items);
    };
  }
  fake.listen(Number(opt('port', '18728')), '127.0.0.1').then((port) => {
    console.log(`fake RouterOS API listening on 127.0.0.1:${port} (user ${opt('user', 'sheriff')}); Ctrl-C to stop`);
  }, (err) => {
    console.error(`fake RouterOS: ${err.message}`);
    process.exit(1);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
