import type { DateRange } from './date-range.ts';

/** The PSAs Converge can read companies and agreements from. */
export const psaProviders = ['connectwise-manage'] as const;
export type PsaProviderName = (typeof psaProviders)[number];

export interface PsaCompany {
  /** The PSA's own id, as text. */
  externalId: string;
  name: string;
}

export interface PsaAddition extends DateRange {
  productId: string;
  name: string;
}

export interface PsaAgreementSnapshot extends DateRange {
  externalId: string;
  name: string;
  agreementTypeId: string;
  additions: PsaAddition[];
}

/**
 * What a PSA gives the sync. HaloPSA and Autotask become providers by implementing this over their own APIs;
 * the sync run, the company-to-tenant mapping and the agreement events stay the same.
 */
export interface PsaProvider {
  readonly name: PsaProviderName;
  /** Resolves when the credentials work; rejects with the PSA's reason otherwise. */
  testConnection(): Promise<void>;
  listCompanies(): Promise<PsaCompany[]>;
  listAgreements(companyExternalId: string): Promise<PsaAgreementSnapshot[]>;
}
