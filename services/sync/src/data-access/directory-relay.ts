import type { Model } from 'mongoose';
import type { Bus } from '@converge/bus';
import { findContract } from '@converge/contracts';
import { startOutboxRelay, type OutboxEntry, type OutboxRelay } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { DirectoryModels } from './directory.models.ts';

/** Publishes outbox entries through the bus, which validates each against its contract. */
function publisher(bus: Bus) {
  return async (entries: OutboxEntry[]): Promise<void> => {
    for (const entry of entries) {
      const contract = findContract(entry.type);
      if (contract === undefined) throw new Error(`no contract for ${entry.type}`);
      await bus.publish(contract, {
        subject: entry.subject,
        data: entry.data,
        id: entry.id,
        time: entry.time,
        ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
      });
    }
  };
}

/** One relay per directory aggregate collection; all of them publish to `sync.directory-events`. */
export function startDirectoryRelays(models: DirectoryModels, bus: Bus, logger: Logger): OutboxRelay[] {
  const publish = publisher(bus);
  const relay = <T>(model: Model<T>) => startOutboxRelay({ model, publish, logger, intervalMs: 250 });
  return [relay(models.tenants), relay(models.people), relay(models.groups), relay(models.psaAgreements)];
}
