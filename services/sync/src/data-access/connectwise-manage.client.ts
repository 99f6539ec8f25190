import type { PsaAgreementSnapshot, PsaCompany, PsaProvider } from '../domain/psa-provider.ts';
import type { RetryPolicy } from '../domain/throttling.ts';
import { fetchJson, type RemoteApi } from './resilient-fetch.ts';

export interface ConnectWiseConnection {
  /** The REST API root, e.g. `https://na.myconnectwise.net/v4_6_release/apis/3.0`. */
  apiUrl: string;
  companyId: string;
  publicKey: string;
  privateKey: string;
  /** The `clientId` of the integration registered with ConnectWise's developer network. */
  clientId: string;
  policy: RetryPolicy;
}

type Json = Record<string, unknown>;

const pageSize = 100;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;

function date(value: unknown): Date | null {
  const raw = text(value);
  if (raw === null) return null;
  const parsed = new Date(raw);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

/** ConnectWise Manage through its REST API (API member keys), as a `PsaProvider`. */
export function connectWiseManageProvider(connection: ConnectWiseConnection): PsaProvider {
  const api: RemoteApi = { name: 'ConnectWise Manage', policy: connection.policy, timeoutMs: 30_000 };
  const credentials = Buffer.from(
    `${connection.companyId}+${connection.publicKey}:${connection.privateKey}`,
  ).toString('base64');
  const headers = { authorization: `Basic ${credentials}`, clientId: connection.clientId };
  const root = connection.apiUrl.replace(/\/$/, '');

  async function get(path: string, query: Record<string, string> = {}): Promise<unknown> {
    const url = `${root}${path}?${new URLSearchParams(query).toString()}`;
    return (await fetchJson(api, url, { headers })).body;
  }

  // Lists page with `page` and `pageSize`; a page shorter than asked for is the last.
  async function all(path: string, query: Record<string, string> = {}): Promise<Json[]> {
    const items: Json[] = [];
    for (let page = 1; ; page++) {
      const body = await get(path, { ...query, page: String(page), pageSize: String(pageSize) });
      const rows = Array.isArray(body) ? (body as Json[]) : [];
      items.push(...rows);
      if (rows.length < pageSize) return items;
    }
  }

  return {
    name: 'connectwise-manage',
    async testConnection() {
      await get('/system/info');
    },
    async listCompanies(): Promise<PsaCompany[]> {
      const rows = await all('/company/companies', { fields: 'id,name' });
      return rows.flatMap((row) => {
        const externalId = text(row.id);
        const name = text(row.name);
        return externalId === null || name === null ? [] : [{ externalId, name }];
      });
    },
    async listAgreements(companyExternalId: string): Promise<PsaAgreementSnapshot[]> {
      const rows = await all('/finance/agreements', {
        conditions: `company/id=${Number(companyExternalId)}`,
      });
      const agreements: PsaAgreementSnapshot[] = [];
      for (const row of rows) {
        const externalId = text(row.id);
        const startsAt = date(row.startDate);
        if (externalId === null || startsAt === null) continue;
        const additions = await all(`/finance/agreements/${encodeURIComponent(externalId)}/additions`);
        agreements.push({
          externalId,
          name: text(row.name) ?? `Agreement ${externalId}`,
          agreementTypeId: text((row.type as Json | undefined)?.id) ?? 'unknown',
          startsAt,
          endsAt: row.noEndingDateFlag === true ? null : date(row.endDate),
          additions: additions.flatMap((addition) => {
            const product = addition.product as Json | undefined;
            const productId = text(product?.id);
            const effective = date(addition.effectiveDate) ?? startsAt;
            if (productId === null) return [];
            return [
              {
                productId,
                name: text(addition.description) ?? text(product?.identifier) ?? '',
                startsAt: effective,
                endsAt: date(addition.cancelledDate),
              },
            ];
          }),
        });
      }
      return agreements;
    },
  };
}
