// Request parsing for route handlers: zod in, a VALIDATION SheriffError out, with every problem in one message.
import type { z } from 'zod';
import { SheriffError } from '../errors.js';

export function parse<T extends z.ZodTypeAny>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new SheriffError('VALIDATION', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), { details: r.error.issues });
  return r.data;
}
