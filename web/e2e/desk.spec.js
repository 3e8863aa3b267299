// The agent's desktop in a real browser: sign in, go ready, an offer arriving live from a
// customer's web form, accepted, read, answered; refusals in words; sign-out ending the session
// on the server; no page without a session; no change without the CSRF token.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';

const admin = () => ({ Authorization: `Bearer ${fs.readFileSync('e2e/.admin-token', 'utf8').trim()}` });
const shot = (page, name) => page.screenshot({ path: `e2e/screenshots/${name}.png` });

async function agent(request, name, password) {
  const headers = admin();
  expect((await request.post('/api/v1/admin/users', { headers, data: { name, role: 'agent' } })).status()).toBe(201);
  expect((await request.post('/api/v1/admin/agents', { headers, data: { user: name } })).status()).toBe(201);
  expect((await request.post(`/api/v1/admin/users/${name}/password`, { headers, data: { password } })).status()).toBe(204);
}

async function signIn(page, name, password) {
  await page.goto('/');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('an agent signs in, takes an offer as it arrives, answers it and signs out', async ({ page, request }) => {
  await agent(request, 'alice', 'alice long passphrase');
  await signIn(page, 'alice', 'not her password at all');
  await expect(page.getByRole('alert')).toHaveText('The name or password is wrong.');
  await signIn(page, 'alice', 'alice long passphrase');
  await expect(page.getByTestId('who')).toHaveText('alice');
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Ready', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('time-in-state')).toBeVisible();
  await shot(page, 'ready');

  // A customer writes; the offer appears without reloading, its deadline counting down.
  const form = await request.post('/api/v1/webform', {
    data: { from: 'ann@example.com', name: 'Ann Lee', subject: 'Where is my parcel?', body: 'It has not arrived yet.' },
  });
  expect(form.status()).toBe(202);
  const offers = page.getByTestId('offers');
  await expect(offers).toContainText('Where is my parcel?');
  await expect(offers).toContainText('s left');
  await shot(page, 'offer');
  await offers.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByTestId('assigned')).toContainText('Where is my parcel?');
  await expect(page.locator('.reader .body')).toContainText('It has not arrived yet.');
  await expect(page.locator('.reader .meta')).toContainText('Ann Lee');

  // The reply is kept as a draft across a reload.
  await page.getByLabel('Reply').fill('Dear Ann, your parcel is on its way.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.locator('.actions [role=status]')).toHaveText('Draft saved.');
  await page.reload();
  await page.getByTestId('assigned').getByRole('button', { name: 'Where is my parcel?' }).click();
  await expect(page.getByLabel('Reply')).toHaveValue('Dear Ann, your parcel is on its way.');

  // A refused action is said in words (this server has no mail server), and the desk goes on.
  await page.getByRole('button', { name: 'Release' }).click();
  await expect(page.getByRole('alert')).toContainText('[smtp]');
  await shot(page, 'refused');

  // Signing out ends the session on the server.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect((await page.request.get('/api/v1/me/interactions')).status()).toBe(401);
});

test('nothing works without a session, and a change needs the CSRF token', async ({ page, request }) => {
  await agent(request, 'bob', 'bob long passphrase');
  expect((await page.request.get('/api/v1/me/interactions')).status()).toBe(401);
  const signedIn = await page.request.post('/api/v1/auth/signin', { data: { name: 'bob', password: 'bob long passphrase' } });
  expect(signedIn.status()).toBe(200);
  const { csrf_token } = await signedIn.json();
  expect((await page.request.get('/api/v1/me/interactions')).status()).toBe(200);
  const without = await page.request.post('/api/v1/me/state', { data: { state: 'ready' } });
  expect(without.status()).toBe(403);
  const withToken = await page.request.post('/api/v1/me/state', {
    data: { state: 'ready' },
    headers: { 'X-CSRF-Token': csrf_token },
  });
  expect(withToken.status()).toBe(200);
  // The page's own headers: nothing from elsewhere may run.
  const pageAnswer = await page.request.get('/');
  expect(pageAnswer.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(pageAnswer.headers()['x-frame-options']).toBe('DENY');
});

test('the keyboard shortcuts are shown on ?', async ({ page, request }) => {
  await agent(request, 'carol', 'carol long passphrase');
  await signIn(page, 'carol', 'carol long passphrase');
  await expect(page.getByTestId('who')).toHaveText('carol');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
});
