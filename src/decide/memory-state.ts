// In-memory DecideState for replay and tests: sliding-window counters keyed by event id.
import type { DecideState } from './types.js';

export class MemoryDecideState implements DecideState {
  private readonly keys = new Map<string, Map<string, number>>();

  constructor(private readonly contained: (ip: string) => boolean | Promise<boolean> = () => false) {}

  async hit(key: string, windowMs: number, now: number, eventId: string): Promise<number> {
    let events = this.keys.get(key);
    if (!events) this.keys.set(key, (events = new Map()));
    // First sighting wins, as ZADD NX does: a redelivery neither counts twice nor moves the event in time.
    if (!events.has(eventId)) events.set(eventId, now);
    const from = now - windowMs;
    let n = 0;
    for (const [id, at] of events) {
      if (at <= from) events.delete(id);
      else if (at <= now) n++;
    }
    return n;
  }

  async deviceContained(ip: string): Promise<boolean> {
    return this.contained(ip);
  }
}
