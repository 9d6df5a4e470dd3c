// Queue names and job payloads shared by producers and workers.
import { z } from 'zod';
import { NormalisedAlert } from '../contracts/alert.js';

export const QUEUES = { alerts: 'alerts', enforce: 'enforce', expire: 'expire', notify: 'notify' } as const;

/** The alerts queue carries the normalised alert without `raw` (kept in the alert store); job id = alert id. */
export const AlertJob = z.object({ alert: NormalisedAlert.omit({ raw: true }) });
export type AlertJob = z.infer<typeof AlertJob>;
