import { expect, test } from '@playwright/test';
import { devUsers } from '@converge/dev-oidc';
import { signIn } from './sign-in.ts';

test('an MSP technician signs in and sees the computers of every tenant', async ({ page }) => {
  await signIn(page, 'msp-admin', '/computers');
  await expect(page.getByRole('heading', { name: 'Computers' })).toBeVisible();
  const table = page.getByRole('table', { name: 'Computers' });
  await expect(table.getByRole('link', { name: /^msp-/ })).toBeVisible({ timeout: 30_000 });
  await expect(table.getByRole('link', { name: /^contoso-/ })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('computers.png'), fullPage: true });
});

test('a tenant admin sees only the computers of its own tenant', async ({ page }) => {
  await signIn(page, 'tenant-admin', '/computers');
  const table = page.getByRole('table', { name: 'Computers' });
  await expect(table.getByRole('link', { name: /^contoso-/ })).toBeVisible({ timeout: 30_000 });
  await expect(table.getByRole('link', { name: /^msp-/ })).toHaveCount(0);
  for (const cell of await table.locator('tbody tr td:nth-child(3)').allTextContents()) {
    expect(cell).toBe(devUsers['tenant-admin'].tenantId);
  }
});

test('the computers list filters by name', async ({ page }) => {
  await signIn(page, 'msp-non-admin', '/computers');
  await page.getByLabel('Search').fill('contoso-');
  await page.getByRole('button', { name: 'Apply' }).click();
  const table = page.getByRole('table', { name: 'Computers' });
  await expect(table.getByRole('link', { name: /^contoso-/ })).toBeVisible({ timeout: 30_000 });
  await expect(table.getByRole('link', { name: /^msp-/ })).toHaveCount(0);
});
