import type { Principal } from '@converge/auth';
import { scriptContentHash, type AuditedEntityType, type AuditEntryRecorded } from '@converge/contracts';
import { ForbiddenError } from '@converge/errors';

/** Who makes a change, as the audit log names them, and the tenant a change of a global thing is logged in. */
export interface ChangeActor {
  subject: string;
  impersonatedBy: string | null;
  tenantId: string;
}

/** The caller of a change request; every caller who may change something belongs to a tenant. */
export function changeActor(principal: Pick<Principal, 'subject' | 'tenantId'>): ChangeActor {
  if (principal.tenantId === undefined) throw new ForbiddenError('changes need a caller of a tenant');
  return { subject: principal.subject, impersonatedBy: null, tenantId: principal.tenantId };
}

// Bookkeeping the log does not show: the outbox, the stored history of replaced bodies, timestamps, version.
const notShown = new Set(['outbox', 'history', 'createdAt', 'updatedAt', 'deletedAt', 'version']);
// A script body up to this size is logged whole; a larger one by its hash (its history keeps the text).
const maxBodyShown = 64 * 1024;

/**
 * A catalog item or deployment as the audit log shows it: JSON text without bookkeeping, with every sealed secret
 * value replaced by `(secret)` (the log shows that a secret is set, never its sealed form) and a long script body
 * by its content hash.
 */
export function auditValue(doc: object): string {
  return JSON.stringify(doc, (key, value: unknown) => {
    if (notShown.has(key)) return undefined;
    if (key === 'sealed') return '(secret)';
    if (key === 'body' && typeof value === 'string' && value.length > maxBodyShown) {
      return `${scriptContentHash(value)} (${String(value.length)} characters)`;
    }
    return value;
  });
}

/** The audit entry of a change; `before` is absent for a creation, `after` for a deletion. */
export function auditEntry(change: {
  entityType: AuditedEntityType;
  entity: { _id: string; tenantId: string | null };
  actor: ChangeActor;
  before: object | null;
  after: object | null;
  at: Date;
}): AuditEntryRecorded {
  const { entity, actor, before, after } = change;
  return {
    tenantId: entity.tenantId ?? actor.tenantId,
    actor: { subject: actor.subject, impersonatedBy: actor.impersonatedBy },
    entityType: change.entityType,
    entityId: entity._id,
    action: before === null ? 'created' : after === null ? 'deleted' : 'updated',
    before: before === null ? null : auditValue(before),
    after: after === null ? null : auditValue(after),
    at: change.at.toISOString(),
  };
}
