// Slack-compatible incoming webhook: POST {"text", "blocks"} with the headline, the facts and a console button.
import type { NotifyJob } from './message.js';
import { postJson } from './http.js';

/** Slack's mrkdwn treats <…> as links and mentions: alert-derived text must not ping @channel or fake a link. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const icons: Record<NotifyJob['event'], string> = {
  approval_needed: ':raising_hand:', enforced: ':lock:', failed: ':x:', expired: ':hourglass:',
  reverted: ':unlock:', kill_switch: ':rotating_light:', mode: ':gear:',
};

export interface SlackPayload {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

export function slackPayload(job: NotifyJob): SlackPayload {
  const text = clip(`${icons[job.event]} ${escapeMrkdwn(job.text)}`, 2900);
  const blocks: Array<Record<string, unknown>> = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  const a = job.action;
  if (a) {
    const fields = [
      ['Action', a.action], ['Device', a.target.hostname ? `${a.target.ip} (${a.target.hostname})` : a.target.ip],
      ['State', a.state], ['Playbook', a.playbook ?? 'manual'],
      ...(a.expiresAt ? [['Expires', a.expiresAt]] : []),
      ...(a.connectors.length ? [['Connectors', a.connectors.map((c) => `${c.name}: ${c.status}`).join(', ')]] : []),
    ] as Array<[string, string]>;
    blocks.push({ type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${clip(escapeMrkdwn(v), 1900)}` })) });
  }
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: a ? 'Open in sheriff' : 'Open sheriff' }, url: job.link }],
  });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `sheriff · ${job.event} · ${job.at}` }] });
  return { text, blocks };
}

export async function sendSlack(url: string, job: NotifyJob, headers: Record<string, string> = {}): Promise<number> {
  return postJson(url, JSON.stringify(slackPayload(job)), headers);
}
