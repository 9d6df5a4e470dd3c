// What the guards made of a request (the request itself is ActionRequest in src/decide/types.ts).

export type GuardDecision =
  | { outcome: 'protected'; reason: string }
  | { outcome: 'uncovered'; reason: string }
  /** `current`: the record's JSON as the guard read it, if it did (saves a read; a stale one only costs a retry). */
  | { outcome: 'extend'; actionId: string; reason: string; ttlMs: number; current?: string }
  | { outcome: 'create'; mode: 'auto' | 'approval'; ttlMs: number; reasons: string[] };
