// Test helper: a whole sheriff whose only connector is the iptables connector on a fresh netns lab's gateway.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLab, type Lab, type LabNode } from './netns.js';
import { SOURCE_TOKEN, startTestSheriff, waitFor, type TestSheriff } from './sheriff.js';

export const DARKTRACE_SECRET = 'darktrace-e2e-secret-0123456789abcdef';

export interface LabSheriff {
  lab: Lab;
  t: TestSheriff;
  /** The iptables connector's set/chain prefix (unique per run). */
  ipsetPrefix: string;
  /** http://127.0.0.1:<port>: the API listening on loopback for real webhook POSTs. */
  baseUrl: string;
  reach(node: LabNode, ip: string, port: number, timeoutMs?: number): Promise<string>;
  /** Runs a command in the gateway namespace; throws on a non-zero exit. */
  gw(file: string, args: string[]): Promise<string>;
  /** Waits until GET /v1/actions/:id shows `state`; returns the action JSON. */
  stateOf(id: string, state: string, timeoutMs?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- action JSON, checked field by field
  /** Stops sheriff (and drops its Redis data) but keeps the lab: what sheriff put in the kernel stays. */
  stopSheriff(): Promise<void>;
  close(): Promise<void>;
}

/** Every source takes the bearer token; darktrace also takes an HMAC secret. */
function sources(): Record<string, unknown> {
  const all = Object.fromEntries(['darktrace', 'suricata', 'zeek', 'falco', 'alertmanager', 'generic'].map((s) => [s, { token: SOURCE_TOKEN }]));
  return { ...all, darktrace: { token: SOURCE_TOKEN, secret: DARKTRACE_SECRET } };
}

export async function startLabSheriff(opts: { connector?: Record<string, unknown>; config?: Record<string, unknown>; listen?: boolean } = {}): Promise<LabSheriff> {
  const lab = await createLab({ ipv6: true });
  const ipsetPrefix = `o${randomBytes(3).toString('hex')}`;
  let t: TestSheriff;
  try {
    t = await startTestSheriff({
      sources: sources(),
      protected: { cidrs: ['10.77.1.1/32'], hostnames: [] }, // the lab gateway itself
      connectors: { edge: { type: 'iptables', netns: lab.ns.gw, hook: 'forward', prefix: ipsetPrefix, scope: [lab.lanCidr], ...opts.connector } },
      ...opts.config,
    });
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  let baseUrl = '';
  if (opts.listen !== false && t.sheriff.app) {
    await t.sheriff.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.sheriff.app.server.address() as AddressInfo).port}`;
  }
  const gw = async (file: string, args: string[]) => {
    const r = await lab.exec('gw', file, args);
    if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  let stopped = false;
  const stopSheriff = async () => {
    if (stopped) return;
    stopped = true;
    await t.close();
  };
  return {
    lab, t, ipsetPrefix, baseUrl, gw,
    reach: (node, ip, port, timeoutMs = 1000) => lab.tryConnect(node, ip, port, timeoutMs),
    stateOf: (id, state, timeoutMs = 10_000) => waitFor(async () => {
      const r = await t.api('viewer', 'GET', `/v1/actions/${id}`);
      return r.json?.state === state ? r.json : null;
    }, `action ${id} to be ${state}`, timeoutMs),
    stopSheriff,
    async close() {
      try { await stopSheriff(); } finally { await lab.destroy(); } // the gateway namespace takes its sets and chains with it
    },
  };
}

/** Blocked: the connection did not open (a reset from REJECT, or silence from DROP). */
export const blocked = (r: string): boolean => r === 'refused' || r === 'timeout';
