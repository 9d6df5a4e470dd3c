// One POST to a notification receiver, with a timeout, no redirects, and a verdict on whether a retry can help.
import { UnrecoverableError } from 'bullmq';

export const POST_TIMEOUT_MS = 10_000;

/** Statuses that say the request itself is wrong (a retry would get the same answer): not retried. */
function permanent(status: number): boolean {
  return status >= 300 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}

/**
 * Throws on anything but 2xx. Permanent refusals throw UnrecoverableError so BullMQ stops retrying;
 * 5xx, 408, 429 and network errors throw plain errors and are retried with back-off.
 */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs = POST_TIMEOUT_MS): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'sheriff-notify', ...headers },
      // A receiver that redirects is misconfigured; following it would send the signed body somewhere unplanned.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new Error(`no answer: ${e.cause?.code ?? e.name}: ${e.message}`, { cause: err });
  }
  // Drain so the connection can be reused; the content does not matter beyond a hint for the log.
  const text = (await res.text().catch(() => '')).slice(0, 200);
  if (res.status >= 200 && res.status < 300) return res.status;
  const msg = `answered ${res.status}${text ? `: ${text}` : ''}`;
  if (permanent(res.status)) throw new UnrecoverableError(`${msg} (not retried)`);
  throw new Error(msg);
}
