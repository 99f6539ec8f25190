import { createHash } from 'node:crypto';
import type { ComputerChanged } from '@converge/contracts';
import type { ComputerDocument, ComputerRepository } from '../data-access/computer.repository.ts';
import type { SessionCommands } from './session-commands.ts';

/** A UUID-shaped id derived from `name`: the same trigger always names the same session. */
export function derivedSessionId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function projection(data: ComputerChanged): ComputerDocument {
  return {
    _id: data.computerId,
    tenantId: data.tenantId,
    name: data.name,
    agentId: data.agentIds[0] ?? null,
    onboardingStatus: data.onboardingStatus,
    excludedFromMaintenance: data.excludedFromMaintenance,
    deleted: data.deletedAt !== null,
    version: data.version,
  };
}

/**
 * Keeps the computer projection, and starts the onboarding session when identity says a computer needs
 * onboarding. The session id comes from the computer and the snapshot's version, and its start is sent before
 * the projection moves on: a crash in between, or a redelivery, sends it again, and its owner starts it once.
 */
export async function applyComputerChange(
  computers: ComputerRepository,
  commands: SessionCommands,
  data: ComputerChanged,
): Promise<void> {
  const computer = projection(data);
  const previous = await computers.find(computer._id);
  if (previous !== null && previous.version >= computer.version) return;
  const becameDue =
    computer.onboardingStatus === 'needs-onboarding' && previous?.onboardingStatus !== 'needs-onboarding';
  if (becameDue && computer.agentId !== null && !computer.deleted && !computer.excludedFromMaintenance) {
    await commands.start([
      {
        sessionId: derivedSessionId(`onboarding:${computer._id}:${String(computer.version)}`),
        tenantId: computer.tenantId,
        computerId: computer._id,
        agentId: computer.agentId,
        kind: 'onboarding',
        trigger: 'onboarding',
        maintenanceItemId: null,
        scheduleId: null,
      },
    ]);
  }
  await computers.upsertIfNewer(computer);
}
