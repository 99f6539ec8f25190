import { expect, test } from '@playwright/test';
import { computerNamed, deployTaskTo } from './api.ts';
import { signIn } from './sign-in.ts';

test('a technician runs maintenance now and watches the log lines arrive live', async ({ page }) => {
  const computer = await computerNamed('msp-');
  await deployTaskTo(computer.id, 'Count to twenty', 20, 0.25);

  await signIn(page, 'msp-admin', `/computers/${computer.id}`);
  await expect(page.getByRole('heading', { name: computer.name })).toBeVisible();
  await page.getByRole('button', { name: 'Run maintenance now' }).click();
  await expect(page).toHaveURL(/\/sessions\/[^/]+$/);

  const log = page.getByTestId('action-log');
  await expect(log).toContainText('Count to twenty line 1', { timeout: 30_000 });
  // Seen before the script finished: the lines came over the live stream, not with a reload.
  const early = (await log.textContent()) ?? '';
  expect(early).not.toContain('Count to twenty line 20');
  await expect(log).toContainText('Count to twenty line 20', { timeout: 30_000 });
  await expect(page.getByTestId('session-status')).toHaveText('passed', { timeout: 30_000 });
  await page.screenshot({ path: test.info().outputPath('session.png'), fullPage: true });
});

test('a technician cancels a running session', async ({ page }) => {
  const computer = await computerNamed('contoso-');
  await deployTaskTo(computer.id, 'Wait a long time', 600, 1);

  await signIn(page, 'tenant-admin', `/computers/${computer.id}`);
  await page.getByRole('button', { name: 'Run maintenance now' }).click();
  await expect(page.getByTestId('action-log')).toContainText('Wait a long time line 1', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Cancel session' }).click();
  await expect(page.getByTestId('session-status')).toHaveText('cancelled', { timeout: 30_000 });
});
