export interface TenantName {
  id: string;
  name: string;
}

export interface TenantSuggestion {
  tenantId: string;
  /** 1 for the same name once legal forms and punctuation are ignored; lower for partial overlaps. */
  score: number;
}

// Legal forms say nothing about which customer a company is.
const legalForms = new Set([
  'inc',
  'llc',
  'ltd',
  'gmbh',
  'ag',
  'bv',
  'co',
  'corp',
  'corporation',
  'plc',
  'sa',
]);

function words(name: string): string[] {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '' && !legalForms.has(word));
}

/** How alike two names are: the share of words they have in common (Jaccard), 0 to 1. */
export function nameSimilarity(a: string, b: string): number {
  const left = new Set(words(a));
  const right = new Set(words(b));
  if (left.size === 0 || right.size === 0) return 0;
  const shared = [...left].filter((word) => right.has(word)).length;
  return shared / (left.size + right.size - shared);
}

/** The tenant a PSA company most likely is, by name; none below half the words in common. */
export function suggestTenant(companyName: string, tenants: readonly TenantName[]): TenantSuggestion | null {
  let best: TenantSuggestion | null = null;
  for (const tenant of tenants) {
    const score = nameSimilarity(companyName, tenant.name);
    if (score >= 0.5 && (best === null || score > best.score)) best = { tenantId: tenant.id, score };
  }
  return best;
}
