import type { Bus } from '@converge/bus';
import { outboxPublisher } from '@converge/runtime';
import { startOutboxRelay, type OutboxRelay } from '@converge/store';
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
    publish: outboxPublisher(bus),
  });
}
