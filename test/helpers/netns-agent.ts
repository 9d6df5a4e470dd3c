// A tiny probe/echo agent run inside one lab namespace (`ip netns exec NS node -e AGENT`), driven by JSON lines on stdin.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** CommonJS source of the agent; it only ever connects to addresses the test hands it (the lab's own). */
const AGENT = String.raw`
const net = require('net');
const rl = require('readline').createInterface({ input: process.stdin });
const held = new Map(); let n = 0;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
rl.on('close', () => process.exit(0));
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.op === 'listen') {
    let pending = m.ports.length;
    for (const p of m.ports) {
      const s = net.createServer((c) => { c.on('error', () => {}); c.pipe(c); });
      s.on('error', (e) => out({ id: m.id, error: String(e) }));
      s.listen({ port: p, host: m.host, ipv6Only: false }, () => { if (--pending === 0) out({ id: m.id, result: 'listening' }); });
    }
    return;
  }
  if (m.op === 'connect' || m.op === 'hold') {
    const s = net.connect({ host: m.ip, port: m.port });
    let done = false;
    const fin = (r) => {
      if (done) return; done = true; clearTimeout(t);
      if (r === 'connected' && m.op === 'hold') { const h = ++n; held.set(h, s); s.on('error', () => {}); out({ id: m.id, result: r, handle: h }); return; }
      s.destroy(); out({ id: m.id, result: r });
    };
    const t = setTimeout(() => fin('timeout'), m.timeoutMs);
    s.on('connect', () => fin('connected'));
    s.on('error', (e) => fin(e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? 'refused' : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? 'unreachable' : 'error:' + e.code));
    return;
  }
  if (m.op === 'echo') {
    const s = held.get(m.handle);
    if (!s || s.destroyed) { out({ id: m.id, result: 'closed' }); return; }
    const token = 'x' + Math.random().toString(36).slice(2) + '\n'; let buf = '';
    const cleanup = () => { clearTimeout(t); s.off('data', onData); s.off('close', onClose); };
    const onData = (d) => { buf += d; if (buf.includes(token)) { cleanup(); out({ id: m.id, result: 'ok' }); } };
    const onClose = () => { cleanup(); out({ id: m.id, result: 'closed' }); };
    const t = setTimeout(() => { cleanup(); out({ id: m.id, result: 'timeout' }); }, m.timeoutMs);
    s.on('data', onData); s.on('close', onClose); s.write(token);
    return;
  }
  if (m.op === 'close') { const s = held.get(m.handle); if (s) s.destroy(); held.delete(m.handle); out({ id: m.id, result: 'closed' }); }
});
`;

interface Reply { id: number; result?: string; handle?: number; error?: string }

/** One agent process inside one namespace; requests are matched to replies by id. */
export class NetnsAgent {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextId = 1;

  constructor(readonly ns: string, ipBin = 'ip') {
    this.child = spawn(ipBin, ['netns', 'exec', ns, process.execPath, '-e', AGENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
    this.child.on('exit', () => {
      for (const resolve of this.waiting.values()) resolve({ id: 0, error: 'agent exited' });
      this.waiting.clear();
    });
  }

  request(msg: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin?.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  /** Ends this agent (our own child, by its handle); its held sockets close with it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
