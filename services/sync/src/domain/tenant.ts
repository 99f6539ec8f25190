import type { TenantSettings } from '@converge/contracts';
import { ValidationError } from '@converge/errors';

/** A new tenant's settings until an MSP changes them: no onboarding, UTC, no business hours, in every baseline. */
export const defaultTenantSettings: TenantSettings = {
  onboardingEnabled: false,
  timeZone: 'UTC',
  businessHours: null,
  excludedFromCrossTenantDeployments: false,
};

/** A URL-friendly name: lowercase words joined by single hyphens, as the tenant contract requires. */
export function slugOf(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  if (slug === '')
    throw new ValidationError('a slug needs at least one letter or digit', [
      { path: '/body/slug', message: 'give a slug' },
    ]);
  return slug;
}

/** Schedules and business hours are in the tenant's own time: an unknown zone would shift them silently. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new ValidationError('unknown time zone', [
      { path: '/body/settings/timeZone', message: 'an IANA time zone such as Europe/Berlin' },
    ]);
  }
}

/** A site belongs to a customer tenant; a tenant cannot be its own parent. */
export function checkParent(tenantId: string, parentTenantId: string | null): void {
  if (parentTenantId === tenantId) {
    throw new ValidationError('a tenant cannot be its own parent', [
      { path: '/body/parentTenantId', message: 'choose another tenant' },
    ]);
  }
}
