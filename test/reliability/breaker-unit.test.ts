// The circuit breaker on its own: opens after N retryable failures, fails fast without calling, half-opens, closes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, withBreaker } from '../../src/enforce/breaker.js';
import type { Connector } from '../../src/contracts/connector.js';
import type { EnforcementStep, Receipt } from '../../src/contracts/action.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { registry } from '../../src/metrics.js';

const down = () => new ConnectorError('x', 'CONNECTOR_UNAVAILABLE', 'connection refused', { retryable: true });

async function gauge(connector: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric('sheriff_connector_breaker_open')?.get();
  return m?.values.find((v) => v.labels.connector === connector)?.value;
}

function countingConnector(name: string, behaviour: { fail: Error | null }): Connector & { calls: number } {
  const c = {
    name, type: 'fake', capabilities: ['block-ssh-egress'] as const, calls: 0,
    async start() {}, async close() {}, async healthcheck() { return { ok: true, detail: '' }; },
    async apply(step: EnforcementStep): Promise<Receipt> {
      c.calls++;
      if (behaviour.fail) throw behaviour.fail;
      return { connector: name, key: step.actionId, actionId: step.actionId, status: 'enforced', detail: 'ok' } as unknown as Receipt;
    },
    async revert() { c.calls++; if (behaviour.fail) throw behaviour.fail; },
    async verify() { return true; },
    async list() { return []; },
  };
  return c;
}

/** A breaker named for this test, recording open/close, around a counting connector that fails with `down()`. */
function breakerLab(suffix: string, opts: { failures: number; coolDownMs: number }) {
  const name = `unit-${process.pid}-${suffix}`;
  const events: string[] = [];
  const b = new CircuitBreaker(name, opts, { onOpen: () => events.push('open'), onClose: () => events.push('close') });
  const behaviour = { fail: down() as Error | null };
  const c = countingConnector(name, behaviour);
  return { name, events, b, behaviour, c, wrapped: withBreaker(c, b), step: { actionId: `a-${suffix}` } as unknown as EnforcementStep };
}

describe('circuit breaker', () => {
  it('opens after N consecutive retryable failures, then fails fast without calling the backend', async () => {
    const { name, events, b, c, wrapped, step } = breakerLab('a', { failures: 3, coolDownMs: 60_000 });
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.apply(step), /connection refused/);
    assert.equal(c.calls, 3);
    assert.equal(b.state(), 'open');
    assert.deepEqual(events, ['open']);
    assert.equal(await gauge(name), 1);
    const err = await wrapped.apply(step).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConnectorError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /circuit breaker open/);
    assert.ok((err.retryAt ?? 0) > Date.now());
    await assert.rejects(wrapped.revert({} as Receipt), /circuit breaker open/);
    assert.equal(c.calls, 3, 'an open breaker never reaches the backend');
    // Pass-through members are untouched.
    assert.equal(wrapped.name, name);
    assert.deepEqual(await wrapped.list(), []);
  });

  it('half-opens after the cool-down: one trial call; success closes it, a failure re-opens it', async () => {
    const { name, events, b, behaviour, c, wrapped, step } = breakerLab('b', { failures: 2, coolDownMs: 50 });
    await assert.rejects(wrapped.apply(step));
    await assert.rejects(wrapped.apply(step));
    assert.equal(b.state(), 'open');
    await new Promise((r) => setTimeout(r, 70));
    assert.equal(b.state(), 'half-open');
    await assert.rejects(wrapped.apply(step), /connection refused/); // the trial reached the backend and failed
    assert.equal(c.calls, 3);
    assert.equal(b.state(), 'open');
    await new Promise((r) => setTimeout(r, 70));
    behaviour.fail = null;
    const receipt = await wrapped.apply(step);
    assert.equal(receipt.status, 'enforced');
    assert.equal(b.state(), 'closed');
    assert.deepEqual(events, ['open', 'close']);
    assert.equal(await gauge(name), 0);
  });

  it('non-retryable answers and "not responsible" prove the backend is up and reset the count', async () => {
    const { name, b, behaviour, wrapped, step } = breakerLab('c', { failures: 2, coolDownMs: 60_000 });
    await assert.rejects(wrapped.apply(step));
    behaviour.fail = new NotResponsibleError(name, 'no such host');
    await assert.rejects(wrapped.apply(step));
    behaviour.fail = down();
    await assert.rejects(wrapped.apply(step));
    assert.equal(b.state(), 'closed');
    behaviour.fail = new ConnectorError(name, 'CONNECTOR_REJECTED', 'bad request');
    await assert.rejects(wrapped.apply(step));
    behaviour.fail = down();
    await assert.rejects(wrapped.apply(step));
    assert.equal(b.state(), 'closed');
    await assert.rejects(wrapped.apply(step));
    assert.equal(b.state(), 'open');
  });

  it('while half-open, only one trial is in flight; concurrent calls fail fast', async () => {
    const name = `unit-${process.pid}-d`;
    const b = new CircuitBreaker(name, { failures: 1, coolDownMs: 20 });
    let release!: () => void;
    let calls = 0;
    await assert.rejects(b.run(async () => { throw down(); }));
    await new Promise((r) => setTimeout(r, 40));
    const trial = b.run(async () => { calls++; await new Promise<void>((r) => { release = r; }); return 'ok'; });
    await assert.rejects(b.run(async () => { calls++; return 'second'; }), /circuit breaker open/);
    release();
    assert.equal(await trial, 'ok');
    assert.equal(calls, 1);
    assert.equal(b.state(), 'closed');
  });
});
