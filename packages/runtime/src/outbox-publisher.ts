import type { Bus } from '@converge/bus';
import { findContract } from '@converge/contracts';
import type { OutboxEntry } from '@converge/store';

/**
 * The outbox relay's `publish` for any service: one aggregate's entries, in order, each validated against its
 * contract, under their stored event ids (a re-publication after a crash is recognisable). Consecutive entries
 * of one type go in one request.
 */
export function outboxPublisher(bus: Bus): (entries: OutboxEntry[]) => Promise<void> {
  return async (entries) => {
    for (let start = 0; start < entries.length;) {
      const type = entries[start]?.type ?? '';
      let end = start;
      while (entries[end]?.type === type) end++;
      const contract = findContract(type);
      if (contract === undefined) throw new Error(`no contract for outbox event type ${type}`);
      await bus.publishMany(
        contract,
        entries.slice(start, end).map((entry) => ({
          id: entry.id,
          subject: entry.subject,
          data: entry.data,
          time: entry.time,
          ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
        })),
      );
      start = end;
    }
  };
}
