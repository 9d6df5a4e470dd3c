// The normaliser of each source, and the batch step that turns payload items into accepted and refused alerts.
import type { z } from 'zod';
import type { NormalisedAlert, SourceName } from '../contracts/alert.js';
import { normaliseAlertmanager } from './alertmanager.js';
import type { NormaliseContext, Normaliser } from './common.js';
import { normaliseDarktrace } from './darktrace.js';
import { normaliseFalco } from './falco.js';
import { normaliseGeneric } from './generic.js';
import { normaliseSuricata } from './suricata.js';
import { normaliseZeek } from './zeek.js';

export const normalisers: Record<SourceName, Normaliser> = {
  darktrace: normaliseDarktrace,
  suricata: normaliseSuricata,
  zeek: normaliseZeek,
  falco: normaliseFalco,
  alertmanager: normaliseAlertmanager,
  generic: normaliseGeneric,
};

export interface Refused { index: number; reason: string; issues?: z.core.$ZodIssue[] }
export interface Batch { alerts: { index: number; alert: NormalisedAlert }[]; refused: Refused[] }

/** `index` counts alerts in payload order (an Alertmanager notification contributes one per alert). */
export function normaliseItems(source: SourceName, items: unknown[], ctx: NormaliseContext): Batch {
  const normalise = normalisers[source];
  const batch: Batch = { alerts: [], refused: [] };
  let index = 0;
  for (const item of items) {
    for (const outcome of normalise(item, ctx)) {
      if (outcome.ok) batch.alerts.push({ index, alert: outcome.alert });
      else batch.refused.push({ index, reason: outcome.reason, ...(outcome.issues ? { issues: outcome.issues } : {}) });
      index++;
    }
  }
  return batch;
}
