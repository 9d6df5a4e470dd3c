// Composition root: wires config, Redis, ledger, connectors, playbooks, queues, workers and the HTTP server.
import type { FastifyInstance } from 'fastify';
import { actionModules } from '../actions/index.js';
import type { ActionName, ActionRecord, EnforcementStep } from './contracts/action.js';
import type { Config } from './config.js';
import { actionRoutes } from './api/routes/actions.js';
import { controlRoutes } from './api/routes/control.js';
import { consoleRoutes } from './api/routes/console.js';
import { createOperatorAuth } from './api/auth.js';
import { buildServer } from './api/server.js';
import { apiDocs } from './api/openapi/index.js';
import { Decider } from './control/decider.js';
import { ActionService, type ActionEvent } from './control/service.js';
import type { GuardDecision } from './control/types.js';
import { createGuards } from './decide/guards.js';
import { RedisDecideState } from './decide/redis-state.js';
import { Enforcer } from './enforce/enforcer.js';
import { Reconciler } from './enforce/reconcile.js';
import { ConnectorRegistry } from './enforce/registry.js';
import { AuditLog } from './ledger/audit.js';
import { Ledger } from './ledger/store.js';
import type { Logger } from './log.js';
import { PlaybookSet } from './playbooks/set.js';
import { Queues } from './queue/queues.js';
import { startWorkers, type RunningWorkers } from './queue/workers.js';
import { AlertStore } from './ingest/store.js';
import { requestConnection, workerConnection } from './redis.js';
import { ingestPlugins } from './ingest/wire.js';
import { breakerWiring } from './enforce/breaker-wiring.js';
import { collectSecrets, registerSecrets } from './secrets.js';
import { BlastRadiusBudget } from './decide/budget.js';
import { sweepProtected } from './enforce/protected-sweep.js';
import { startNotifications, type Notifications } from './notify/wire.js';

export type Role = 'all' | 'api' | 'worker';

export interface Sheriff {
  app: FastifyInstance | null;
  ledger: Ledger;
  audit: AuditLog;
  service: ActionService;
  enforcer: Enforcer;
  reconciler: Reconciler;
  registry: ConnectorRegistry;
  queues: Queues;
  playbooks: PlaybookSet;
  workers: RunningWorkers | null;
  notifications: Notifications;
  /** Resolves once every Redis connection is ready (tests; serve does not wait). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function planFor(record: Pick<ActionRecord, 'id' | 'action' | 'params' | 'target'>, expiresAt: number | null): EnforcementStep[] {
  const mod = actionModules[record.action];
  return mod.plan(record.target, mod.resolveParams(record.params), { actionId: record.id, expiresAt });
}

export interface StartOptions {
  config: Config;
  role: Role;
  log: Logger;
  /** Extra listeners for action events (notifications, tests). */
  onEvent?: (event: ActionEvent, record: ActionRecord | null, extra?: Record<string, unknown>) => void;
  reconcileOnStart?: boolean;
}

export async function startSheriff(o: StartOptions): Promise<Sheriff> {
  const { config, log, role } = o;
  const prefix = config.redisPrefix;
  registerSecrets(collectSecrets(config)); // every logger scrubs these values from its lines
  const cmd = requestConnection(config.redis, log);
  const ledgerConn = requestConnection(config.redis, log);
  const auditConn = requestConnection(config.redis, log);
  const bull = workerConnection(config.redis, log);

  const ledger = new Ledger(ledgerConn, prefix);
  const audit = new AuditLog(auditConn, prefix);
  const registry = new ConnectorRegistry(config, { log: log.child({ component: 'connector' }), redis: cmd, keyPrefix: prefix },
    breakerWiring(config, audit, log));
  const queues = new Queues(bull, prefix);
  const playbooks = new PlaybookSet(config.playbooks, registry.describe(), log, (problems, ok) => {
    void audit.append([{ type: 'playbooks.reload', by: 'system', data: { ok, problems, count: playbooks.current().length } }]).catch(() => undefined);
  });
  playbooks.loadOrThrow();

  const budget = new BlastRadiusBudget(cmd, prefix, config.limits);
  const guards = createGuards({ protected: config.protected, limits: config.limits, ttl: config.ttl, connectors: registry.describe() });
  const plan = (r: ActionRecord, expiresAt: number) => planFor(r, expiresAt);
  const notifications = startNotifications({ config, connection: bull, log, deliver: role !== 'api' });
  const notify = (event: ActionEvent, record: ActionRecord | null, extra?: Record<string, unknown>) => {
    notifications.notifier.emit(event, record, extra);
    o.onEvent?.(event, record, extra);
  };

  const service = new ActionService({
    ledger, audit, queues, registry, config, log, plan, notify,
    guard: async (req): Promise<GuardDecision> => {
      // The blast-radius counts matter only to a new automatic action: most requests in a storm extend a live one,
      // so they are read only when the guards would create (then the guards run again with them; cheap, no I/O).
      let live: Promise<{ id: string; raw: string | null } | null> | undefined;
      const findLive = (ip: string, action: string) => (live ??= ledger.findLiveRecord(ledger.liveKeyFor(ip, action as ActionName, req.params)));
      let g = await guards.apply(req, { findLive, newInLastHour: 0, activeCount: 0 });
      if (g.outcome === 'create' && req.approval === 'auto') {
        const [newInLastHour, activeCount] = await Promise.all([ledger.autoCreatedSince(Date.now() - 3_600_000), ledger.countInState('active')]);
        g = await guards.apply(req, { findLive, newInLastHour, activeCount });
      }
      switch (g.outcome) {
        case 'protected':
        case 'uncovered':
          return { outcome: g.outcome, reason: g.reason };
        case 'extend':
          return { outcome: 'extend', actionId: g.actionId, reason: g.reason, ttlMs: g.request.ttlMs, current: (await live)?.raw ?? undefined };
        case 'create': {
          // Passed the cheap pre-check: book it in the shared budget, or fall back to approval.
          const booked = g.request.approval === 'auto' ? await budget.reserve() : null;
          const auto = g.request.approval === 'auto' && booked?.ok === true;
          const reasons = booked && !booked.ok ? [...g.notes, booked.note] : g.notes;
          return { outcome: 'create', mode: auto ? 'auto' : 'approval', ttlMs: g.request.ttlMs, reasons };
        }
      }
    },
  });
  const enforcer = new Enforcer({
    ledger, audit, registry, log, plan,
    scheduleExpiry: (id, at) => queues.scheduleExpiry(id, at),
    onEvent: (event, record) => notify(event, record),
  });
  const reconciler = new Reconciler({ ledger, audit, registry, log, redis: cmd, plan });
  const state = new RedisDecideState({ redis: cmd, prefix, deviceContained: (ip) => ledger.deviceHasLive(ip) });
  const decider = new Decider({ service, audit, log, state, playbooks: () => playbooks.current() });

  // Redis may not be up yet: keep trying in the background, never crash for it.
  void retryForever(log, 'initialise mode', () => service.initMode());

  let workers: RunningWorkers | null = null;
  let reconcileTimer: NodeJS.Timeout | null = null;
  if (role !== 'api') {
    void registry.startAll((name, err) => log.error({ connector: name, err: (err as Error).message }, 'connector start failed; enforcement on it will fail until fixed'));
    const alertStore = new AlertStore(cmd, prefix, { retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow });
    workers = startWorkers({
      connection: bull, prefix, log, ledger, enforcer, stall: config.workers, dedupeWindowMs: config.ingest.dedupeWindow,
      decide: async (job) => {
        await decider.decide(job);
        // Decided: a re-delivery stays a duplicate after the job is gone (see AlertStore's commit script).
        await alertStore.markDecided(job.alert.id);
      },
    });
    const sweep = () => sweepProtected({ ledger, audit, guards, log, revert: async (id, note) => { await service.revert(id, 'system', note); } });
    void retryForever(log, 'protected-asset sweep', sweep);
    const tick = () => sweep().then(() => reconciler.run()).catch((err: Error) => log.warn({ err: err.message }, 'reconcile failed'));
    if (o.reconcileOnStart !== false) setTimeout(tick, 2000).unref();
    reconcileTimer = setInterval(tick, config.reconcile.interval);
    reconcileTimer.unref();
  }

  let app: FastifyInstance | null = null;
  const closers: Array<() => Promise<void>> = [];
  if (role !== 'worker') {
    const auth = createOperatorAuth(config);
    const workersUp = async () => (workers ? workers.running() : (await queues.alerts.getWorkersCount()) > 0);
    const ingest = ingestPlugins({ config, redis: cmd, log, workersUp });
    closers.push(ingest.close);
    const docs = apiDocs();
    app = await buildServer({
      log,
      bodyLimit: config.ingest.bodyLimit,
      rateLimit: { limits: config.limits.http, identify: (token) => auth.authenticate(token)?.name },
      plugins: [
        docs.recorder,
        ...ingest.plugins,
        consoleRoutes({ auth }),
        actionRoutes({
          auth, ledger, service,
          resolveParams: (action, params) => actionModules[action].resolveParams(params) as Record<string, unknown>,
          defaultTtlMs: (action) => actionModules[action].defaultTtlMs,
        }),
        controlRoutes({
          auth, service, audit,
          playbooks: () => playbooks.describe(),
          connectors: async () => Promise.all(registry.all.map(async (c) => ({
            name: c.name, type: c.type, capabilities: c.capabilities, scope: c.scope,
            health: await c.connector.healthcheck().catch((err: Error) => ({ ok: false, detail: err.message })),
          }))),
        }),
        docs.routes,
      ],
    });
  }

  return {
    app, ledger, audit, service, enforcer, reconciler, registry, queues, playbooks, workers, notifications,
    async ready() {
      await Promise.all([cmd, ledgerConn, auditConn, bull].map((c) => (c.status === 'ready' ? undefined : new Promise((r) => c.once('ready', r)))));
      await service.initMode();
      if (workers) await Promise.all(workers.workers.map((w) => w.waitUntilReady()));
      if (notifications.worker) await notifications.worker.waitUntilReady();
    },
    async close() {
      if (reconcileTimer) clearInterval(reconcileTimer);
      playbooks.stop();
      if (app) await app.close();
      if (workers) await workers.close();
      await notifications.close();
      await queues.close();
      for (const c of closers) await c();
      await registry.closeAll(); // leaves enforcement in place
      for (const c of [cmd, ledgerConn, auditConn, bull]) c.disconnect();
    },
  };
}

async function retryForever(log: Logger, what: string, fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (attempt === 3) log.warn({ err: (err as Error).message }, `${what}: waiting for Redis`);
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 10_000)));
    }
  }
}
