import { isEvent, type Bus, type Subscription } from '@converge/bus';
import { auditEntryRecorded, topics } from '@converge/contracts';
import { asTenantId } from '@converge/store';
import type { AuditRepository } from '../../data-access/audit.repository.ts';

/**
 * The other services' audit entries (docs/architecture.md, the audit log amendment), recorded in the one audit
 * log under their event ids, so a redelivered entry is recorded once.
 */
export function recordAuditEntries(bus: Bus, groupId: string, audit: AuditRepository): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [topics.auditEntries],
    fromBeginning: true,
    handle: async (event) => {
      if (!isEvent(event, auditEntryRecorded)) return;
      const { tenantId, actor, entityType, entityId, action, before, after, at } = event.data;
      await audit.recordOnce(event.id, {
        tenantId: asTenantId(tenantId),
        actor,
        entityType,
        entityId,
        action,
        at: new Date(at),
        before,
        after,
      });
    },
  });
}
