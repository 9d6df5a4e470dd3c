// The crash-safety scenario shared by the log and iptables variants: stream, kill workers, then check the evidence.
import assert from 'node:assert/strict';
import {
  acceptedCounts, processedBy, readActions, readAudit, runId, startKiller, startRun, streamAlerts, waitUntil,
  type KillerReport, type Run, type StreamResult,
} from './harness.js';

/** One containment entry as the enforcement point itself reports it. */
export interface Entry { ip: string; actionId: string }

export interface ScenarioOptions {
  label: string;
  redisUrl: string;
  devices: string[];
  connectors: Record<string, unknown>;
  ttlS: number;
  streamMs: number;
  kills: number;
  killEveryMs: number;
  /** What the enforcement point holds right now (log connector hash, ipset members…). */
  readConnector: (run: Run) => Promise<Entry[]>;
  /** Extra checks while every action is active (e.g. real traffic in the lab). */
  whileActive?: (run: Run, actions: Map<string, string>) => Promise<void>;
  afterExpiry?: (run: Run) => Promise<void>;
}

export interface Figures {
  variant: string;
  alertsSent: number;
  accepted: number;
  statuses: Record<string, number>;
  processed: number;
  duplicateAcceptedEntries: number;
  actions: number;
  duplicateActions: number;
  connectorEntriesAtSnapshot: number;
  mismatchesAtSnapshot: number;
  kills: number;
  jobsPerWorker: Record<string, number>;
  expired: number;
  maxExpiryLatenessMs: number;
  allProcessedAfterLastKillMs: number;
  totalMs: number;
}

const TRANSIENT = ['approved', 'enforcing', 'reverting'];

async function statesNow(run: Run): Promise<{ transient: number; active: string[] }> {
  const k = (s: string) => `${run.prefix}:idx:state:${s}`;
  const res = await run.redis.multi().zcard(k('approved')).zcard(k('enforcing')).zcard(k('reverting')).zrange(k('active'), 0, -1).exec();
  if (!res) throw new Error('multi aborted');
  const transient = res.slice(0, 3).reduce((n, [, v]) => n + Number(v), 0);
  return { transient, active: (res[3]?.[1] as string[]).slice().sort() };
}

export async function crashScenario(o: ScenarioOptions): Promise<Figures> {
  const started = Date.now();
  const run = await startRun({
    label: o.label, redisUrl: o.redisUrl, connectors: o.connectors, ttl: `${o.ttlS}s`, workers: 2,
  });
  try {
    await run.waitReady();
    const id = runId();
    const killer = startKiller(run.workers, { everyMs: o.killEveryMs, downMs: 300, maxKills: o.kills });
    const stream: StreamResult = await streamAlerts(run.url, o.devices, { runId: id, concurrency: 8, durationMs: o.streamMs });
    const killed: KillerReport = await killer.stop();
    const lastKill = Math.max(...killed.kills.map((k) => k.at));
    assert.equal(killed.kills.length, o.kills, 'the killer ran its course during the stream');
    assert.equal(stream.accepted.size, o.devices.length, `every alert got a 202 (statuses ${JSON.stringify(stream.statuses)})`);

    // 1. Every accepted alert processed exactly once: one alert.accepted audit entry each.
    const audit = await waitUntil(async () => {
      const a = await readAudit(run.redis, run.prefix);
      const c = acceptedCounts(a);
      return [...stream.accepted.keys()].every((k) => c.has(k)) ? a : null;
    }, 'every accepted alert to be decided', 90_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await run.diagnose()}`); });
    const processedAt = Date.now();
    const counts = acceptedCounts(audit);
    const dupAccepted = [...counts.entries()].filter(([, n]) => n > 1);
    assert.deepEqual(dupAccepted, [], 'no alert was decided twice');
    assert.equal(counts.size, stream.accepted.size, 'no alert.accepted entry for an alert that was never accepted');

    // 2. Every decided action enforced exactly once: at a settled moment the connector holds exactly the active actions.
    let snapshot: { entries: Entry[]; active: string[] } | null = null;
    await waitUntil(async () => {
      const before = await statesNow(run);
      if (before.transient || before.active.length < o.devices.length) return null;
      const entries = await o.readConnector(run);
      const after = await statesNow(run);
      if (after.transient || after.active.join() !== before.active.join()) return null;
      snapshot = { entries, active: after.active };
      return true;
    }, 'every action to be active at once', 60_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await run.diagnose()}`); });
    const snap = snapshot as unknown as { entries: Entry[]; active: string[] };
    const actions = await readActions(run.redis, run.prefix);
    const perDevice = new Map<string, number>();
    for (const a of actions) perDevice.set(a.target.ip, (perDevice.get(a.target.ip) ?? 0) + 1);
    const dupActions = [...perDevice.entries()].filter(([, n]) => n > 1);
    assert.deepEqual(dupActions, [], 'one action per device');
    assert.equal(actions.length, o.devices.length, 'one action per accepted alert');
    const held = new Set(snap.entries.map((e) => `${e.ip}|${e.actionId}`));
    const wanted = new Set(actions.filter((a) => snap.active.includes(a.id)).map((a) => `${a.target.ip}|${a.id}`));
    const missing = [...wanted].filter((k) => !held.has(k));
    const extra = [...held].filter((k) => !wanted.has(k));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'the enforcement point holds exactly the ledger\'s active actions');
    for (const a of actions) {
      assert.equal(a.history.filter((h) => h.state === 'active').length, 1, `action ${a.id} became active once`);
    }
    if (o.whileActive) await o.whileActive(run, new Map(actions.map((a) => [a.target.ip, a.id])));

    // 3. Scale-out: both worker processes did work.
    const by = await processedBy(run.redis, run.prefix, ['alerts', 'enforce']);
    const jobsPerWorker: Record<string, number> = {};
    for (const w of run.workers) {
      jobsPerWorker[w.label] = [...by.entries()].filter(([name]) => w.pids.some((p) => name.endsWith(`:${p}`))).reduce((n, [, c]) => n + c, 0);
      assert.ok((jobsPerWorker[w.label] ?? 0) > 0, `${w.label} processed jobs`);
    }

    // 4. Expiry still happens: every action ends expired (not early) and the enforcement point is empty.
    const ended = await waitUntil(async () => {
      const all = await readActions(run.redis, run.prefix);
      return all.every((a) => !['active', ...TRANSIENT].includes(a.state)) ? all : null;
    }, 'every action to expire', (o.ttlS + 60) * 1000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await run.diagnose()}`); });
    let lateness = 0;
    for (const a of ended) {
      assert.equal(a.state, 'expired', `action ${a.id} ended ${a.state}: ${JSON.stringify(a.history.slice(-2))}`);
      const at = Date.parse((a.history.find((h) => h.state === 'expired') as { at: string }).at);
      const due = Date.parse(a.expiresAt as string);
      assert.ok(at >= due - 1000, `action ${a.id} expired before its time`);
      lateness = Math.max(lateness, at - due);
    }
    assert.deepEqual(await o.readConnector(run), [], 'nothing left on the enforcement point after expiry');
    if (o.afterExpiry) await o.afterExpiry(run);

    return {
      variant: o.label,
      alertsSent: o.devices.length,
      accepted: stream.accepted.size,
      statuses: stream.statuses,
      processed: counts.size,
      duplicateAcceptedEntries: dupAccepted.length,
      actions: actions.length,
      duplicateActions: dupActions.length,
      connectorEntriesAtSnapshot: snap.entries.length,
      mismatchesAtSnapshot: missing.length + extra.length,
      kills: killed.kills.length,
      jobsPerWorker,
      expired: ended.filter((a) => a.state === 'expired').length,
      maxExpiryLatenessMs: lateness,
      allProcessedAfterLastKillMs: processedAt - lastKill,
      totalMs: Date.now() - started,
    };
  } finally {
    await run.close();
  }
}
