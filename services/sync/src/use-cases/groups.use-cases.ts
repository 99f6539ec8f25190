import { NotFoundError } from '@converge/errors';
import { asTenantId, type TenantScope } from '@converge/store';
import type { AggregateWriter } from '../data-access/aggregate-writer.ts';
import type { GroupDocument } from '../data-access/directory.models.ts';
import { everyItem } from '../data-access/every-page.ts';
import { groupDeletedEvent, groupUpsertedEvent } from '../domain/directory-snapshots.ts';
import {
  applyMemberChanges,
  resolveTransitiveMembers,
  sameMembers,
  type DirectMembers,
  type MemberChange,
} from '../domain/group-membership.ts';

export interface SyncedGroupFields {
  /** Null when a delta page carries only membership changes (Graph then omits unchanged properties). */
  displayName: string | null;
  entraObjectId: string;
}

export class GroupUseCases {
  private readonly groups: AggregateWriter<GroupDocument>;

  constructor(groups: AggregateWriter<GroupDocument>) {
    this.groups = groups;
  }

  async live(scope: TenantScope, id: string): Promise<GroupDocument> {
    const group = await this.groups.findOne(scope, { _id: id, deletedAt: null });
    if (group === null) throw new NotFoundError('group not found');
    return group;
  }

  /** Every person in the group, through nested groups: one read of the tenant's groups, resolved in memory. */
  async transitiveMembers(scope: TenantScope, id: string): Promise<string[]> {
    const group = await this.live(scope, id);
    const tenant = asTenantId(group.tenantId);
    const groups = await everyItem((cursor) =>
      this.groups.list(tenant, {
        filter: { deletedAt: null },
        limit: 200,
        ...(cursor === undefined ? {} : { cursor }),
      }),
    );
    const byId = new Map<string, DirectMembers>(groups.map((g) => [g._id, g]));
    return resolveTransitiveMembers(id, byId);
  }

  /** Applies a directory's view of a group; unchanged groups are not rewritten (no event on a re-run). */
  async upsertSynced(
    id: string,
    tenantId: string,
    fields: SyncedGroupFields,
    changes: readonly MemberChange[],
    now: Date,
  ): Promise<boolean> {
    const current = await this.groups.findById(asTenantId(tenantId), id);
    if (current === null) {
      const members = applyMemberChanges({ memberPersonIds: [], memberGroupIds: [] }, changes);
      await this.groups.create(
        {
          _id: id,
          tenantId,
          displayName: fields.displayName ?? fields.entraObjectId,
          entraObjectId: fields.entraObjectId,
          memberPersonIds: [...members.memberPersonIds],
          memberGroupIds: [...members.memberGroupIds],
        },
        now,
        groupUpsertedEvent,
      );
      return true;
    }
    const members = applyMemberChanges(current, changes);
    const displayName = fields.displayName ?? current.displayName;
    if (current.deletedAt === null && displayName === current.displayName && sameMembers(current, members)) {
      return false;
    }
    await this.groups.change(
      current,
      {
        displayName,
        memberPersonIds: [...members.memberPersonIds],
        memberGroupIds: [...members.memberGroupIds],
        deletedAt: null,
      },
      now,
      groupUpsertedEvent,
    );
    return true;
  }

  async removeSynced(id: string, tenantId: string, now: Date): Promise<boolean> {
    const current = await this.groups.findById(asTenantId(tenantId), id);
    if (current === null || current.deletedAt !== null) return false;
    await this.groups.remove(current, now, groupDeletedEvent);
    return true;
  }
}
