// The shared suite every connector passes against its real backend or faithful fake.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ActionName, EnforcementStep, Receipt } from '../../src/contracts/action.js';
import type { Connector } from '../../src/contracts/connector.js';
import { ConnectorError, SheriffError } from '../../src/errors.js';

export interface ConformanceSetup {
  connector: Connector;
  /** Devices the backend knows (an EDR host, a pod IP); the suite uses the first for each capability. */
  devices: string[];
  /** Makes the backend fail (stop the fake, cut the socket) so that typed errors can be checked; undefined skips that check. */
  breakBackend?: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export function newActionId(): string {
  return `a-${randomBytes(10).toString('hex')}`;
}

export function sampleStep(action: ActionName, ip: string, actionId = newActionId(), expiresAt: number | null = Date.now() + 3_600_000): EnforcementStep {
  const device = { ip };
  switch (action) {
    case 'block-ssh-egress':
      return { actionId, action, device, expiresAt, params: { ports: [22, 2222, 2022] } };
    case 'block-endpoint':
      return { actionId, action, device, expiresAt, params: { ip: '203.0.113.7/32', port: 443, protocol: 'tcp', scope: 'device' } };
    case 'rate-limit-new-ports':
      return { actionId, action, device, expiresAt, params: { perMinute: 10, burst: 5 } };
    case 'quarantine-device':
      return { actionId, action, device, expiresAt, params: { allow: ['198.51.100.0/24'] } };
  }
}

/** Connector receipts are counted by key, so "apply twice = once" means one key in list(). */
function keysFor(list: Receipt[], actionId: string): string[] {
  return list.filter((r) => r.actionId === actionId).map((r) => r.key);
}

export function connectorConformance(label: string, setup: () => Promise<ConformanceSetup>): void {
  describe(`connector conformance: ${label}`, () => {
    let s: ConformanceSetup;
    before(async () => {
      s = await setup();
      await s.connector.start();
      await s.connector.start(); // start is idempotent
    });
    after(async () => {
      await s.connector.close();
      await s.cleanup();
    });

    it('declares a name, type and capabilities', () => {
      assert.ok(s.connector.name.length > 0);
      assert.ok(s.connector.type.length > 0);
      assert.ok(s.connector.capabilities.length > 0);
    });

    it('reports health', async () => {
      const h = await s.connector.healthcheck();
      assert.equal(typeof h.detail, 'string');
      assert.equal(h.ok, true, h.detail);
    });

    it('applies each capability idempotently, lists it, verifies it, reverts it', async () => {
      for (const action of s.connector.capabilities) {
        const ip = s.devices[0] as string;
        const step = sampleStep(action, ip);
        const r1 = await s.connector.apply(step);
        const r2 = await s.connector.apply(step);
        assert.equal(r1.key, r2.key, `${action}: apply twice gives the same key`);
        assert.equal(r1.connector, s.connector.name);
        assert.equal(r1.action, action);
        const listed = keysFor(await s.connector.list(), step.actionId);
        assert.deepEqual(listed, [r1.key], `${action}: list shows exactly one entry after two applies`);
        assert.equal(await s.connector.verify(r2), true, `${action}: verify after apply`);
        await s.connector.revert(r2);
        assert.equal(await s.connector.verify(r2), false, `${action}: verify after revert`);
        assert.deepEqual(keysFor(await s.connector.list(), step.actionId), [], `${action}: list empty after revert`);
        await s.connector.revert(r2); // reverting twice is harmless
      }
    });

    it('reverting an unknown receipt is harmless', async () => {
      const action = s.connector.capabilities[0] as ActionName;
      const step = sampleStep(action, s.devices[0] as string);
      const r = await s.connector.apply(step);
      await s.connector.revert(r);
      const unknown: Receipt = { ...r, actionId: newActionId() };
      await s.connector.revert(unknown);
      assert.equal(await s.connector.verify(unknown), false);
    });

    it('a missing backend gives a typed error', async (t) => {
      if (!s.breakBackend) {
        t.skip('this backend cannot be broken from the test');
        return;
      }
      await s.breakBackend();
      const action = s.connector.capabilities[0] as ActionName;
      await assert.rejects(s.connector.apply(sampleStep(action, s.devices[0] as string)), (err: unknown) => {
        assert.ok(err instanceof ConnectorError || err instanceof SheriffError, `typed error, got ${String(err)}`);
        assert.equal(typeof (err as SheriffError).retryable, 'boolean');
        return true;
      });
    });
  });
}
