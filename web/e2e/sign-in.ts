import { expect, type Page } from '@playwright/test';
import type { DevRole } from '@converge/dev-oidc';

/**
 * Signs in through the real authorization code flow: the dashboard sends the browser to the development
 * provider, whose login page takes a seeded user's name with any password, then asks for consent.
 */
export async function signIn(page: Page, role: DevRole, path = '/'): Promise<void> {
  await page.goto(path);
  await page.locator('input[name="login"]').fill(role);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  // The consent prompt (asked for every sign-in: the refresh token needs it).
  const consent = page.locator('button[type="submit"]', { hasText: /continue|authorize|allow/i });
  await consent.click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}
