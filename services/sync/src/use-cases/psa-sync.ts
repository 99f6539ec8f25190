import { createHash } from 'node:crypto';
import { allTenants, asTenantId } from '@converge/store';
import type { AggregateWriter } from '../data-access/aggregate-writer.ts';
import { everyItem } from '../data-access/every-page.ts';
import type { PsaAgreementDocument, TenantDocument } from '../data-access/directory.models.ts';
import type { PsaCompanyRepository } from '../data-access/integration.repository.ts';
import { psaAgreementDeletedEvent, psaAgreementUpsertedEvent } from '../domain/directory-snapshots.ts';
import type { PsaAgreementSnapshot, PsaProvider } from '../domain/psa-provider.ts';
import { suggestTenant } from '../domain/tenant-matching.ts';

export interface PsaSyncDeps {
  companies: PsaCompanyRepository;
  agreements: AggregateWriter<PsaAgreementDocument>;
  tenants: AggregateWriter<TenantDocument>;
}

export interface PsaSyncResult {
  companies: number;
  agreements: number;
  /** One per company whose agreements could not be read; the other companies still synced. */
  errors: string[];
}

function agreementId(integrationId: string, externalId: string): string {
  return `agreement-${createHash('sha256').update(`${integrationId}\n${externalId}`).digest('hex').slice(0, 32)}`;
}

const time = (date: Date | null) => date?.getTime() ?? null;

function sameAgreement(stored: PsaAgreementDocument, snapshot: PsaAgreementSnapshot): boolean {
  const additions = (list: PsaAgreementSnapshot['additions']) =>
    JSON.stringify(list.map((a) => [a.productId, a.name, time(a.startsAt), time(a.endsAt)]));
  return (
    stored.deletedAt === null &&
    stored.name === snapshot.name &&
    stored.agreementTypeId === snapshot.agreementTypeId &&
    time(stored.startsAt) === time(snapshot.startsAt) &&
    time(stored.endsAt) === time(snapshot.endsAt) &&
    additions(stored.additions) === additions(snapshot.additions)
  );
}

/**
 * One PSA sync: every company is recorded with the tenant it most likely is (by name) for an MSP admin to
 * confirm; agreements and their additions are synced for the confirmed companies only. Agreements that
 * disappeared from the PSA are deleted.
 */
export async function runPsaSync(
  integration: { _id: string; tenantId: string },
  provider: PsaProvider,
  deps: PsaSyncDeps,
  now: () => Date,
): Promise<PsaSyncResult> {
  const result: PsaSyncResult = { companies: 0, agreements: 0, errors: [] };
  const tenants = (
    await everyItem((cursor) =>
      deps.tenants.list(allTenants, {
        filter: { deletedAt: null },
        limit: 200,
        ...(cursor === undefined ? {} : { cursor }),
      }),
    )
  ).map((tenant) => ({ id: tenant._id, name: tenant.name }));
  for (const company of await provider.listCompanies()) {
    await deps.companies.upsertSeen({
      _id: `${integration._id}:${company.externalId}`,
      tenantId: integration.tenantId,
      integrationId: integration._id,
      externalId: company.externalId,
      name: company.name,
      suggestedTenantId: suggestTenant(company.name, tenants)?.tenantId ?? null,
      seenAt: now(),
    });
    result.companies++;
  }

  for (const company of await deps.companies.mapped(integration._id)) {
    const tenantId = company.mappedTenantId;
    if (tenantId === null) continue;
    try {
      const seen = new Set<string>();
      for (const snapshot of await provider.listAgreements(company.externalId)) {
        const id = agreementId(integration._id, snapshot.externalId);
        seen.add(id);
        const stored = await deps.agreements.findById(asTenantId(tenantId), id);
        const fields = {
          name: snapshot.name,
          agreementTypeId: snapshot.agreementTypeId,
          startsAt: snapshot.startsAt,
          endsAt: snapshot.endsAt,
          additions: snapshot.additions,
        };
        if (stored === null) {
          await deps.agreements.create(
            {
              _id: id,
              tenantId,
              integrationId: integration._id,
              provider: provider.name,
              externalId: snapshot.externalId,
              ...fields,
            },
            now(),
            psaAgreementUpsertedEvent,
          );
        } else if (!sameAgreement(stored, snapshot)) {
          await deps.agreements.change(
            stored,
            { ...fields, deletedAt: null },
            now(),
            psaAgreementUpsertedEvent,
          );
        } else {
          continue;
        }
        result.agreements++;
      }
      const held = await everyItem((cursor) =>
        deps.agreements.list(asTenantId(tenantId), {
          filter: { integrationId: integration._id, deletedAt: null },
          limit: 200,
          ...(cursor === undefined ? {} : { cursor }),
        }),
      );
      for (const gone of held.filter((agreement) => !seen.has(agreement._id))) {
        await deps.agreements.remove(gone, now(), psaAgreementDeletedEvent);
        result.agreements++;
      }
    } catch (error) {
      result.errors.push(
        `company ${company.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return result;
}
