// Counts per key (a command, a path, a peer) for a probe's top lists. The list
// is complete and sorted; callers that publish it cut it to their N.
import type { TopEntry } from '../../api/top-list.js';

export class TopList {
  private readonly tallies = new Map<string, { count: number; errors: number }>();

  /** withErrors: every entry carries `errors` (files, tcp); otherwise none does (exec). */
  constructor(private readonly withErrors: boolean) {}

  add(key: string, count: number, errors = 0): void {
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count += count;
      tally.errors += errors;
    } else {
      this.tallies.set(key, { count, errors });
    }
  }

  /** By count, then errors, descending; ties by key so the order is stable. */
  entries(): TopEntry[] {
    const entries = [...this.tallies].map(([key, t]): TopEntry =>
      this.withErrors ? { key, count: t.count, errors: t.errors } : { key, count: t.count },
    );
    return entries.sort(
      (a, b) => b.count - a.count || (b.errors ?? 0) - (a.errors ?? 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }
}
