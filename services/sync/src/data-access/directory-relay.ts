import type { Model } from 'mongoose';
import type { Bus } from '@converge/bus';
import { outboxPublisher } from '@converge/runtime';
import { startOutboxRelay, type OutboxRelay } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { DirectoryModels } from './directory.models.ts';

/** One relay per directory aggregate collection; all of them publish to `sync.directory-events`. */
export function startDirectoryRelays(models: DirectoryModels, bus: Bus, logger: Logger): OutboxRelay[] {
  const publish = outboxPublisher(bus);
  const relay = <T>(model: Model<T>) => startOutboxRelay({ model, publish, logger });
  return [relay(models.tenants), relay(models.people), relay(models.groups), relay(models.psaAgreements)];
}
