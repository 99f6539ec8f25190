import { findContract } from '@converge/contracts';
import type { Bus } from '@converge/bus';
import { startOutboxRelay, type OutboxEntry, type OutboxRelay } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { ComputerRepository } from '../../data-access/computer.repository.ts';

/**
 * Publishes the computer events stored in each computer's outbox to `identity.computer-events`, keyed by
 * computer id and under their stored event ids (a re-publication after a crash is recognisable).
 */
export function startComputerEventsRelay(
  bus: Bus,
  computers: ComputerRepository,
  logger: Logger,
): OutboxRelay {
  return startOutboxRelay({
    model: computers.mongooseModel,
    logger,
    publish: async (entries: OutboxEntry[]) => {
      // One computer's entries, in order; consecutive entries of one type go in one request.
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
    },
  });
}
