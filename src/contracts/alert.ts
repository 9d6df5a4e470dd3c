// The normalised alert every detector payload becomes.
import { z } from 'zod';

export const sourceNames = ['darktrace', 'suricata', 'zeek', 'falco', 'alertmanager', 'generic'] as const;
export const SourceName = z.enum(sourceNames);
export type SourceName = z.infer<typeof SourceName>;

export const NormalisedAlert = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,80}$/),
  source: SourceName,
  name: z.string().max(512),
  score: z.number().min(0).max(1),
  detectedAt: z.string(),
  receivedAt: z.string(),
  device: z.object({
    ip: z.string(),
    hostname: z.string().max(253).optional(),
    mac: z.string().max(64).optional(),
    id: z.string().max(128).optional(),
    tags: z.array(z.string().max(128)).max(64),
  }),
  peer: z.object({
    ip: z.string().optional(),
    port: z.number().int().min(0).max(65535).optional(),
    hostname: z.string().max(253).optional(),
  }).optional(),
  raw: z.unknown(),
});
export type NormalisedAlert = z.infer<typeof NormalisedAlert>;
