// Generic webhook: a JSON body signed like ingest (X-Sheriff-Signature: t=<unix>,v1=<hmac-sha256 of "<t>.<body>">).
import { SIGNATURE_HEADER, signBody } from '../ingest/webhook-auth.js';
import type { ActionSummary, EventDetails, NotifyJob } from './message.js';
import { postJson } from './http.js';

export interface WebhookBody {
  event: NotifyJob['event'];
  at: string;
  text: string;
  action: ActionSummary | null;
  details: EventDetails;
  link: string;
}

export function webhookBody(job: NotifyJob): WebhookBody {
  return { event: job.event, at: job.at, text: job.text, action: job.action, details: job.details, link: job.link };
}

/**
 * Signed afresh at every attempt (the receiver's 5-minute window would reject a stale retry).
 * `deliveryId` stays the same across retries so a receiver can drop duplicates.
 */
export async function sendWebhook(target: { url: string; secret?: string | undefined }, job: NotifyJob, deliveryId: string, nowS = Math.floor(Date.now() / 1000)): Promise<number> {
  const body = JSON.stringify(webhookBody(job));
  const headers: Record<string, string> = { 'x-sheriff-event': job.event, 'x-sheriff-delivery': deliveryId };
  if (target.secret) headers[SIGNATURE_HEADER] = signBody(target.secret, body, nowS);
  return postJson(target.url, body, headers);
}
