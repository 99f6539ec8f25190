import { NotFoundError } from '@converge/errors';
import type { Model, QueryFilter, UpdateQuery } from 'mongoose';
import { pageQuery, toPage, type Page, type PageRequest } from './cursor-pagination.ts';
import { updateVersioned } from './optimistic-update.ts';
import { deleteOneDocument, findOneDocument } from './single-document.ts';
import { scopedFilter, type TenantId, type TenantScope } from './tenant-id.ts';

export interface TenantDocument {
  _id: unknown;
  tenantId: string;
}

export interface ListRequest<TDoc> extends PageRequest {
  filter?: QueryFilter<TDoc>;
}

/**
 * The base of every repository of tenant-owned documents. Each method takes the tenant (or, for reads, the
 * caller's tenant scope) by type and adds it to the filter itself, after the caller's conditions, so a filter
 * can never widen the scope. Results are plain objects (`lean`), never mongoose documents.
 */
export class TenantRepository<TDoc extends TenantDocument> {
  protected readonly model: Model<TDoc>;

  constructor(model: Model<TDoc>) {
    this.model = model;
  }

  protected scoped(scope: TenantScope, filter: QueryFilter<TDoc> = {}): QueryFilter<TDoc> {
    return scopedFilter(scope, filter);
  }

  async findById(scope: TenantScope, id: TDoc['_id']): Promise<TDoc | null> {
    return findOneDocument(this.model, this.scoped(scope, { _id: id }));
  }

  /** Like `findById`, but a document outside the scope is as absent as a missing one: `NotFoundError`. */
  async getById(scope: TenantScope, id: TDoc['_id']): Promise<TDoc> {
    const doc = await this.findById(scope, id);
    if (doc === null) throw new NotFoundError(`${this.model.modelName} not found`);
    return doc;
  }

  async findOne(scope: TenantScope, filter: QueryFilter<TDoc>): Promise<TDoc | null> {
    return this.model.findOne(this.scoped(scope, filter)).lean<TDoc>();
  }

  async count(scope: TenantScope, filter?: QueryFilter<TDoc>): Promise<number> {
    return this.model.countDocuments(this.scoped(scope, filter));
  }

  /** One page of a list, in the cursor pagination every list endpoint shares. */
  async list(scope: TenantScope, request: ListRequest<TDoc> = {}): Promise<Page<TDoc>> {
    const query = pageQuery(request, this.scoped(scope, request.filter));
    const docs = await this.model
      .find(query.filter as QueryFilter<TDoc>)
      .sort(query.sort)
      .limit(query.fetchLimit)
      .lean<TDoc[]>();
    return toPage(docs, request);
  }

  async insert(tenantId: TenantId, doc: Omit<TDoc, 'tenantId'>): Promise<TDoc> {
    // Through the model so that schema defaults and validation apply, then back to a plain object.
    // (Typed loosely here: mongoose's creation types do not resolve over a generic document type.)
    const model = this.model as unknown as Model<TenantDocument>;
    const created = await model.create({ ...doc, tenantId });
    return created.toObject() as TDoc;
  }

  /** A versioned update (see `updateVersioned`): `ConflictError` on a lost race, `NotFoundError` outside the tenant. */
  async update(
    this: TenantRepository<TDoc & { version: number }>,
    tenantId: TenantId,
    id: TDoc['_id'],
    expectedVersion: number,
    update: UpdateQuery<TDoc & { version: number }>,
  ): Promise<TDoc & { version: number }> {
    return updateVersioned(this.model, this.scoped(tenantId, { _id: id }), expectedVersion, update);
  }

  async deleteById(tenantId: TenantId, id: TDoc['_id']): Promise<boolean> {
    return deleteOneDocument(this.model, this.scoped(tenantId, { _id: id }));
  }
}
