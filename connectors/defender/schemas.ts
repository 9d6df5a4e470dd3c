// Zod shapes of the Defender for Endpoint answers sheriff reads, and the validators for values sent to it.
import { z } from 'zod';

/** Machine ids are 40 hex (SHA-1) in MDE; anything else never reaches a URL path. */
export const MachineId = z.string().regex(/^[0-9a-fA-F]{40}$/);
/** MachineAction ids are GUIDs. */
export const MachineActionId = z.string().regex(/^[0-9a-fA-F-]{36}$/);
/** Indicator ids are numeric strings in practice; accept numbers too, keep them path-safe. */
export const IndicatorId = z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^[0-9A-Za-z-]{1,64}$/));

export const Machine = z.object({
  id: MachineId,
  computerDnsName: z.string().max(512).nullish(),
  lastIpAddress: z.string().max(64).nullish(),
  ipAddresses: z.array(z.object({ ipAddress: z.string().max(64).nullish() })).nullish(),
});
export type Machine = z.infer<typeof Machine>;

export const MachineActionStatus = z.enum(['Pending', 'InProgress', 'Succeeded', 'Failed', 'TimeOut', 'Cancelled']);
export type MachineActionStatus = z.infer<typeof MachineActionStatus>;

export const MachineAction = z.object({
  id: MachineActionId,
  type: z.string().max(64),
  status: MachineActionStatus,
  machineId: MachineId,
  scope: z.string().max(32).nullish(),
  requestorComment: z.string().max(4096).nullish(),
  creationDateTimeUtc: z.string().max(64),
});
export type MachineAction = z.infer<typeof MachineAction>;

export const Indicator = z.object({
  id: IndicatorId,
  indicatorValue: z.string().max(512),
  indicatorType: z.string().max(64),
  action: z.string().max(64),
  title: z.string().max(4096).nullish(),
  expirationTime: z.string().max(64).nullish(),
});
export type Indicator = z.infer<typeof Indicator>;

export const collection = <T extends z.ZodTypeAny>(item: T) => z.object({
  value: z.array(item),
  '@odata.nextLink': z.string().max(4096).optional(),
});

export const TokenAnswer = z.object({
  token_type: z.string(),
  expires_in: z.coerce.number().int().positive(),
  access_token: z.string().min(1),
});

export const VendorError = z.object({ error: z.object({ code: z.string().max(200).optional(), message: z.string().max(4000).optional() }) });
export const TokenError = z.object({ error: z.string().max(200), error_description: z.string().max(4000).optional() });

/** The only comment sheriff writes on machine actions and indicator titles; recovered by list(). */
export const sheriffComment = (actionId: string) => `sheriff ${actionId}`;
export const SHERIFF_COMMENT_RE = /^sheriff (a-[a-z0-9]{8,40})$/;

export function actionIdFromComment(text: string | null | undefined): string | null {
  const m = SHERIFF_COMMENT_RE.exec(text ?? '');
  return m ? (m[1] as string) : null;
}

/** Vendor text in our error messages: bounded, single line, no control characters. */
export function tame(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 200);
}
