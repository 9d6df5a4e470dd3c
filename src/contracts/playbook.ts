// Playbook schema: when an alert matches, which actions to request and how.
import { z } from 'zod';
import { ActionName } from './action.js';
import { SourceName } from './alert.js';
import { cidr, duration } from './net.js';

const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

export const PlaybookMatch = z.object({
  source: oneOrMany(SourceName).optional(),
  /** Exact names or globs (`*`, `?`); Darktrace's `::` and ` / ` separators are treated alike. */
  name: oneOrMany(z.string().min(1).max(512)).optional(),
  minScore: z.number().min(0).max(1).optional(),
  device: z.object({
    cidrs: z.array(cidr).optional(),
    tags: z.array(z.string().max(128)).optional(),
    hostnames: z.array(z.string().max(253)).optional(),
  }).strict().optional(),
  /** Only a peer endpoint makes sense for block-endpoint: require one. */
  hasPeer: z.boolean().optional(),
  threshold: z.object({ count: z.number().int().min(1).max(100_000), within: duration }).strict().optional(),
}).strict();

export const ResponseStep = z.object({
  action: ActionName,
  params: z.record(z.string(), z.unknown()).default({}),
  ttl: duration.optional(),
  approval: z.enum(['auto', 'required']).default('required'),
  /** With approval `required`: become auto when the alert's score is at least this. */
  autoMinScore: z.number().min(0).max(1).optional(),
  when: z.object({
    /** Escalate on repeat offences: this playbook matched the device at least `repeat` times within `within`. */
    repeat: z.number().int().min(1).max(10_000).optional(),
    within: duration.optional(),
    /** Only when the alert scores at least this. */
    minScore: z.number().min(0).max(1).optional(),
    /** Only when the device already has a live (active/enforcing) action. */
    deviceContained: z.boolean().optional(),
  }).strict().optional(),
}).strict();

export const Playbook = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'playbook names are lower-case letters, digits and dashes'),
  description: z.string().max(2000).optional(),
  enabled: z.boolean().default(true),
  match: PlaybookMatch,
  respond: z.array(ResponseStep).min(1).max(16),
}).strict();
export type Playbook = z.infer<typeof Playbook>;
export type ResponseStep = z.infer<typeof ResponseStep>;
