// Queue names and job payloads shared by producers and workers.
import { z } from 'zod';
import { NormalisedAlert } from '../contracts/alert.js';

export const QUEUES = { alerts: 'alerts', enforce: 'enforce', expire: 'expire', notify: 'notify' } as const;

/** The alerts queue carries the normalised alert without `raw` (kept in the alert store); job id = alert id. */
export const AlertJob = z.object({ alert: NormalisedAlert.omit({ raw: true }) });
export type AlertJob = z.infer<typeof AlertJob>;

/**
 * The Redis key of an alert's BullMQ job hash: BullMQ keeps a job at `<prefix>:<queue>:<jobId>` (Queue.toKey; a test
 * holds this to a real add). The ingest commit script reads it to tell a duplicate from a delivery never queued.
 */
export const alertJobKey = (prefix: string, alertId: string): string => `${prefix}:${QUEUES.alerts}:${alertId}`;

/** Completed alert jobs go within the hour, failed ones are kept for inspection up to half the dedupe window. */
export function alertRetention(dedupeWindowMs: number): { removeOnComplete: { age: number; count: number }; removeOnFail: { age: number } } {
  const half = Math.max(1, Math.floor(dedupeWindowMs / 2000));
  return { removeOnComplete: { age: Math.min(3600, half), count: 10_000 }, removeOnFail: { age: half } };
}
