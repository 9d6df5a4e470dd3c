// Test helper: an HTTP receiver on 127.0.0.1 (port 0) that records every POST and answers as the test scripts it.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- payloads are checked field by field
  answered: number | null;
  /** The client's connection for this request went away (it gave up, or we answered and it closed). */
  closed: boolean;
}

/** Returns the status to answer request number n (0-based), or 'hang' to never answer. */
export type Script = (n: number) => number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(script: Script = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json: unknown = null;
      try { json = JSON.parse(raw.toString('utf8')); } catch { /* recorded as raw */ }
      const entry: Received = { headers: req.headers, raw, json, answered: null, closed: false };
      res.on('close', () => { entry.closed = true; });
      const answer = script(received.length);
      received.push(entry);
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      entry.answered = answer;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A loopback port nobody listens on (bound, then released). */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/hook`;
}
