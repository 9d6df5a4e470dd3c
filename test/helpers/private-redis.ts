// A redis-server of one test only (on a free loopback port), for tests that stop Redis under sheriff.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class PrivateRedis {
  child: ChildProcess | null = null;
  /** `args`: extra redis-server options, e.g. AOF with `appendfsync always` so that SIGKILL keeps every acknowledged write. */
  constructor(readonly port: number, private readonly args: string[] = ['--save', '', '--appendonly', 'no']) {}
  get url() { return `redis://127.0.0.1:${this.port}`; }

  static async start(args?: string[]): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), args);
    await r.start();
    return r;
  }

  /** Starts (or restarts) the server and waits until it answers PING. */
  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', ...this.args], { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 200; i++) {
        await probe.connect().catch(() => undefined);
        if ((await probe.ping().catch(() => null)) === 'PONG') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      await this.kill();
      throw new Error(`private redis-server on port ${this.port} did not answer within 10 s`);
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
    this.child = null;
  }
}
