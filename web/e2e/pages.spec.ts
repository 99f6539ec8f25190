import { expect, test } from '@playwright/test';
import { signIn } from './sign-in.ts';

const pages = [
  { path: '/', heading: 'Fleet at a glance', file: 'home.png' },
  { path: '/computers', heading: 'Computers', file: 'computers.png' },
  { path: '/identification', heading: 'New computers', file: 'identification.png' },
  { path: '/sessions', heading: 'Maintenance sessions', file: 'sessions.png' },
];

test('every main page opens for an MSP technician (screenshots kept as artifacts)', async ({ page }) => {
  await signIn(page, 'msp-non-admin');
  for (const { path, heading, file } of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await page.screenshot({ path: test.info().outputPath(file), fullPage: true });
  }
});

test('a problem from a service is shown with its words and trace id', async ({ page }) => {
  await signIn(page, 'msp-admin', '/computers/no-such-computer');
  await expect(page.getByRole('alert')).toContainText('404');
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, 'tenant-non-admin');
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The provider asks to confirm ending its own session; the dashboard's is gone already.
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:18080\//);
  await page.goto('/computers');
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:18080\//);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
});
