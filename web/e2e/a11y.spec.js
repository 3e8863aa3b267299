// Accessibility: axe-core in the browser finds no serious or critical violation on the sign-in
// page, the agent's desk, the supervisor's dashboard and timeline, the reviewer's and the auditor's
// views; the dashboard on a wall screen.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import fs from 'node:fs';

const admin = () => ({ Authorization: `Bearer ${fs.readFileSync('e2e/.admin-token', 'utf8').trim()}` });

async function serious(page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

test('the pages have no serious accessibility violations', async ({ page, request }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await serious(page)).toEqual([]);

  const headers = admin();
  await request.post('/api/v1/admin/users', { headers, data: { name: 'ada', role: 'agent' } });
  await request.post('/api/v1/admin/agents', { headers, data: { user: 'ada' } });
  await request.post('/api/v1/admin/users/ada/password', { headers, data: { password: 'ada long passphrase' } });
  await page.getByLabel('Name').fill('ada');
  await page.getByLabel('Password').fill('ada long passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('who')).toHaveText('ada');
  expect(await serious(page)).toEqual([]);
  await page.getByRole('button', { name: 'Sign out' }).click();

  await request.post('/api/v1/admin/users', { headers, data: { name: 'sue', role: 'supervisor' } });
  await request.post('/api/v1/admin/users/sue/password', { headers, data: { password: 'sue long passphrase' } });
  await page.getByLabel('Name').fill('sue');
  await page.getByLabel('Password').fill('sue long passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('queues')).toBeVisible();
  expect(await serious(page)).toEqual([]);

  // The timeline, opened on an id, is accessible too.
  await page.getByLabel('Interaction', { exact: true }).fill('00000000-0000-4000-8000-000000000000');
  await page.getByRole('button', { name: 'Timeline' }).last().click();
  await expect(page.getByRole('alert')).toContainText('no interaction');
  expect(await serious(page)).toEqual([]);

  // On a wall screen the dashboard fills it, larger, with nothing cut off or scrolled sideways.
  await page.setViewportSize({ width: 2560, height: 1440 });
  await expect(page.getByTestId('queues')).toBeVisible();
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(fits).toBe(true);
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  expect(size).toBeGreaterThan(16);
  await page.screenshot({ path: 'e2e/screenshots/wall.png' });
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The reviewer's view and the auditor's.
  await request.post('/api/v1/admin/users', { headers, data: { name: 'rhea', role: 'agent' } });
  await request.post('/api/v1/admin/agents', { headers, data: { user: 'rhea', reviewer: true } });
  await request.post('/api/v1/admin/users/rhea/password', { headers, data: { password: 'rhea long passphrase' } });
  await request.post('/api/v1/admin/users', { headers, data: { name: 'otto', role: 'auditor' } });
  await request.post('/api/v1/admin/users/otto/password', { headers, data: { password: 'otto long passphrase' } });
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const [name, tab, ready] of [['rhea', 'Reviews', 'reviews'], ['otto', 'Audit', 'events']]) {
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(`${name} long passphrase`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByTestId(ready)).toBeVisible();
    expect(await serious(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
  }
});

test.describe('in German', () => {
  test.use({ locale: 'de-DE' });
  test('a German browser gets the desktop in German, as accessible', async ({ page, request }) => {
    const headers = admin();
    await request.post('/api/v1/admin/users', { headers, data: { name: 'greta', role: 'agent' } });
    await request.post('/api/v1/admin/agents', { headers, data: { user: 'greta' } });
    await request.post('/api/v1/admin/users/greta/password', { headers, data: { password: 'greta long passphrase' } });
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await page.getByLabel('Name').fill('greta');
    await page.getByLabel('Passwort').fill('greta long passphrase');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect(page.getByRole('button', { name: 'Bereit', exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Angebote' })).toBeVisible();
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: 'e2e/screenshots/german.png' });
    await page.getByRole('button', { name: 'Abmelden' }).click();
  });
});
