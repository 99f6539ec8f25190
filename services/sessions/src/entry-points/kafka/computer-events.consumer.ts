import { computerChanged } from '@converge/contracts';
import { isEvent, type Bus, type Subscription } from '@converge/bus';
import type { ComputerRepository } from '../../data-access/computer.repository.ts';
import { applyComputerChange } from '../../use-cases/computer-changes.ts';
import type { SessionCommands } from '../../use-cases/session-commands.ts';

/** Identity's computer snapshots: the computers sessions run on, and the onboarding trigger. */
export function consumeComputerEvents(
  bus: Bus,
  computers: ComputerRepository,
  commands: SessionCommands,
  opts: { groupId: string; topic: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    handle: async (event) => {
      if (isEvent(event, computerChanged)) await applyComputerChange(computers, commands, event.data);
    },
  });
}
