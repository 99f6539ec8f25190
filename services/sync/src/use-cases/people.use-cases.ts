import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '@converge/errors';
import { asTenantId, type TenantScope } from '@converge/store';
import type { AggregateWriter } from '../data-access/aggregate-writer.ts';
import type { AuditRepository } from '../data-access/audit.repository.ts';
import type { PersonDocument } from '../data-access/directory.models.ts';
import { personDeletedEvent, personUpsertedEvent } from '../domain/directory-snapshots.ts';
import { auditActor, type Actor } from './actor.ts';

export interface PersonInput {
  displayName: string;
  upn?: string | null;
  email?: string | null;
  onPremisesSid?: string | null;
  tags?: string[];
}

export type PersonPatch = Partial<PersonInput> & { version?: number };

/** The fields a directory sync owns; everything else (tags) is Converge's and survives a sync. */
export type SyncedPersonFields = Pick<
  PersonDocument,
  'displayName' | 'upn' | 'email' | 'entraObjectId' | 'onPremisesSid'
>;

function view(person: PersonDocument) {
  const { outbox: _outbox, outboxLeaseOwner: _owner, outboxLeaseUntil: _until, ...rest } = person;
  return rest;
}

export class PeopleUseCases {
  private readonly people: AggregateWriter<PersonDocument>;
  private readonly audit: AuditRepository;

  constructor(people: AggregateWriter<PersonDocument>, audit: AuditRepository) {
    this.people = people;
    this.audit = audit;
  }

  async live(scope: TenantScope, id: string): Promise<PersonDocument> {
    const person = await this.people.findOne(scope, { _id: id, deletedAt: null });
    if (person === null) throw new NotFoundError('person not found');
    return person;
  }

  async findByUpn(tenantId: string, upn: string): Promise<PersonDocument | null> {
    return this.people.findOne(asTenantId(tenantId), { upn, deletedAt: null });
  }

  async create(
    actor: Actor | null,
    tenantId: string,
    input: PersonInput,
    now: Date,
  ): Promise<PersonDocument> {
    const person = await this.people.create(
      {
        _id: `person-${randomUUID()}`,
        tenantId,
        displayName: input.displayName,
        upn: input.upn ?? null,
        email: input.email ?? null,
        entraObjectId: null,
        onPremisesSid: input.onPremisesSid ?? null,
        tags: input.tags ?? [],
      },
      now,
      personUpsertedEvent,
    );
    if (actor !== null) {
      await this.audit.record({
        tenantId: asTenantId(tenantId),
        actor: auditActor(actor),
        entityType: 'person',
        entityId: person._id,
        action: 'created',
        after: view(person),
        at: now,
      });
    }
    return person;
  }

  async update(
    actor: Actor,
    scope: TenantScope,
    id: string,
    patch: PersonPatch,
    now: Date,
  ): Promise<PersonDocument> {
    const current = await this.live(scope, id);
    if (patch.version !== undefined && patch.version !== current.version) {
      throw new ConflictError(`person changed since version ${patch.version}; reload and retry`);
    }
    const { version: _version, ...changes } = patch;
    const updated = await this.people.change(current, changes, now, personUpsertedEvent);
    await this.audit.record({
      tenantId: asTenantId(current.tenantId),
      actor: auditActor(actor),
      entityType: 'person',
      entityId: id,
      action: 'updated',
      before: view(current),
      after: view(updated),
      at: now,
    });
    return updated;
  }

  /**
   * Writes a person as the directory has them: the synced fields are overwritten, tags set in Converge kept.
   * An unchanged person is not rewritten, so a re-run publishes nothing.
   */
  async upsertSynced(id: string, tenantId: string, fields: SyncedPersonFields, now: Date): Promise<boolean> {
    const current = await this.people.findById(asTenantId(tenantId), id);
    if (current === null) {
      await this.people.create({ _id: id, tenantId, ...fields, tags: [] }, now, personUpsertedEvent);
      return true;
    }
    const unchanged =
      current.deletedAt === null &&
      (Object.keys(fields) as (keyof SyncedPersonFields)[]).every((key) => current[key] === fields[key]);
    if (unchanged) return false;
    await this.people.change(current, { ...fields, deletedAt: null }, now, personUpsertedEvent);
    return true;
  }

  async removeSynced(id: string, tenantId: string, now: Date): Promise<boolean> {
    const current = await this.people.findById(asTenantId(tenantId), id);
    if (current === null || current.deletedAt !== null) return false;
    await this.people.remove(current, now, personDeletedEvent);
    return true;
  }
}
