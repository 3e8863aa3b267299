// The agent's desktop in a real browser: sign in, go ready, an offer arriving live from a
// customer's mail fetched over IMAP, accepted, read, answered; refusals in words; sign-out ending
// the session on the server; no page without a session; no change without the CSRF token; a
// hostile mail that runs nothing and loads nothing.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';

const admin = () => ({ Authorization: `Bearer ${fs.readFileSync('e2e/.admin-token', 'utf8').trim()}` });

// What the SMTP server received for `to`: each message's bytes as text.
function mailTo(to) {
  const dir = fs.readFileSync('e2e/.mail-dir', 'utf8').trim();
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .filter((f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')).rcpt_tos.includes(to))
    .map((f) => fs.readFileSync(`${dir}/${f.replace('.json', '.eml')}`, 'latin1'));
}
// A customer's mail delivered into the support mailbox (Dovecot, IMAP APPEND); postroom fetches it.
function deliver(lines) {
  const port = fs.readFileSync('e2e/.imap-port', 'utf8').trim();
  execFileSync('/usr/bin/python3', ['e2e/deliver.py', port], { input: Buffer.from(lines.join('\r\n'), 'utf8') });
}
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = 'JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==';

const shot = (page, name) => page.screenshot({ path: `e2e/screenshots/${name}.png` });

async function agent(request, name, password, flags = {}) {
  const headers = admin();
  expect((await request.post('/api/v1/admin/users', { headers, data: { name, role: 'agent' } })).status()).toBe(201);
  expect((await request.post('/api/v1/admin/agents', { headers, data: { user: name, ...flags } })).status()).toBe(201);
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

  // A customer writes to the support mailbox; the offer appears without reloading, its deadline
  // counting down.
  deliver([
    'From: Ann Lee <ann@example.com>', 'To: support@example.test', 'Subject: Where is my parcel?',
    'Message-ID: <parcel-1@example.com>', 'Date: Thu, 26 Nov 2026 09:30:00 +0000', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed"', '',
    '--mixed', 'Content-Type: multipart/related; boundary="rel"', '',
    '--rel', 'Content-Type: multipart/alternative; boundary="alt"', '',
    '--alt', 'Content-Type: text/plain; charset=utf-8', '', 'It has not arrived yet.', '',
    '--alt', 'Content-Type: text/html; charset=utf-8', '',
    '<p>It has <b>not arrived</b> yet.</p><p><img src="cid:label@example.com" alt="the parcel label" width="8" height="8"></p>', '',
    '--alt--', '',
    '--rel', 'Content-Type: image/png', 'Content-ID: <label@example.com>', 'Content-Disposition: inline',
    'Content-Transfer-Encoding: base64', '', PNG, '',
    '--rel--', '',
    '--mixed', 'Content-Type: application/pdf; name="receipt.pdf"', 'Content-Disposition: attachment; filename="receipt.pdf"',
    'Content-Transfer-Encoding: base64', '', PDF, '',
    '--mixed--', '',
  ]);
  const offers = page.getByTestId('offers');
  await expect(offers).toContainText('Where is my parcel?', { timeout: 20_000 });
  await expect(offers).toContainText('s left');
  await shot(page, 'offer');
  await offers.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByTestId('assigned')).toContainText('Where is my parcel?');
  // The mail's HTML in the sandboxed frame; its attachment to download, byte for byte.
  await expect(page.frameLocator('iframe.mail').locator('b')).toHaveText('not arrived');
  // Its inline image, from the mail's own part, drawn without the frame loading anything.
  const label = page.frameLocator('iframe.mail').getByRole('img', { name: 'the parcel label' });
  await expect(label).toHaveAttribute('src', /^data:image\/png;base64,/);
  expect(await label.evaluate((img) => img.complete && img.naturalWidth)).toBe(1);
  const attachment = page.getByRole('list', { name: 'Attachments' }).getByRole('link', { name: 'receipt.pdf' });
  const download = await page.request.get(await attachment.getAttribute('href'));
  expect(download.status()).toBe(200);
  expect(Buffer.from(await download.body()).equals(Buffer.from(PDF, 'base64'))).toBe(true);
  await shot(page, 'reading');
  await page.getByRole('button', { name: 'Show plain text' }).click();
  await expect(page.locator('.reader .body')).toContainText('It has not arrived yet.');
  await expect(page.locator('.reader > .meta')).toContainText('Ann Lee');

  // A standard response, found by a word, is rendered for this customer.
  const made = await request.post('/api/v1/standard-responses', {
    headers: admin(),
    data: {
      name: 'Parcel on its way', categories: [], usage: 'suggestion', approved: true,
      subject: 'Re: {{ subject }}', text: 'Dear {{ contact_name }}, your parcel left our warehouse today.',
    },
  });
  expect(made.status()).toBe(201);
  await page.getByText('Standard responses').click();
  await page.getByLabel('Find a response').fill('parcel');
  await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: 'Use' }).click();
  await expect(page.getByLabel('Reply')).toHaveValue('Dear Ann Lee, your parcel left our warehouse today.');

  // The reply is kept as a draft across a reload.
  await page.getByLabel('Reply').fill('Dear Ann, your parcel is on its way.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.locator('.actions [role=status]')).toHaveText('Draft saved.');
  await page.reload();
  // j opens the first of my work from the keyboard.
  await expect(page.getByTestId('assigned')).toContainText('Where is my parcel?');
  await page.keyboard.press('j');
  await expect(page.getByLabel('Reply')).toHaveValue('Dear Ann, your parcel is on its way.');

  // A refused action is said in words, and the desk goes on.
  await page.getByLabel('Reply').fill('   ');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByRole('alert')).toContainText('must not be blank');
  await shot(page, 'refused');
  await page.getByRole('button', { name: 'Close' }).click();

  // Released: it reaches the customer's mail server, once.
  await page.getByLabel('Reply').fill('Dear Ann, your parcel is on its way.');
  await page.getByRole('button', { name: 'Release' }).click();
  await expect(page.locator('.actions [role=status]')).toHaveText('Released.');
  await expect.poll(() => mailTo('ann@example.com').length).toBe(1);
  const sent = mailTo('ann@example.com')[0];
  expect(sent).toContain('Dear Ann, your parcel is on its way.');
  // Threaded to the customer's message.
  expect(sent).toMatch(/^In-Reply-To: <parcel-1@example\.com>$/m);

  // Finished with a disposition: it leaves the desk.
  await page.getByLabel('Disposition').selectOption('resolved');
  await page.getByRole('button', { name: 'Done', exact: true }).click();
  await expect(page.getByTestId('assigned')).toContainText('Nothing here.');

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
  await page.request.post('/api/v1/me/state', {
    data: { state: 'logged_out' },
    headers: { 'X-CSRF-Token': csrf_token },
  });
  // The page's own headers: nothing from elsewhere may run.
  const pageAnswer = await page.request.get('/');
  expect(pageAnswer.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(pageAnswer.headers()['x-frame-options']).toBe('DENY');
  // Without a session the page asks to sign in, whatever it held before.
  await page.request.post('/api/v1/auth/signout', { headers: { 'X-CSRF-Token': csrf_token } });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await shot(page, 'signin');
});

test('a lost connection and an ended session are explained in words, and the desk recovers', async ({ page, request }) => {
  await agent(request, 'hana', 'hana long passphrase');
  await signIn(page, 'hana', 'hana long passphrase');
  await expect(page.getByTestId('who')).toHaveText('hana');
  // Not ready says why, in place.
  await page.getByRole('button', { name: 'Not ready', exact: true }).click();
  await page.getByLabel('Why not ready').fill('Lunch');
  await page.getByRole('button', { name: 'Not ready', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Not ready (Lunch)' })).toHaveAttribute('aria-pressed', 'true');
  // The network goes: an action says so in words; back, the same action works.
  await page.context().setOffline(true);
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('The server cannot be reached');
  await shot(page, 'offline');
  await page.context().setOffline(false);
  await page.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Ready', exact: true })).toHaveAttribute('aria-pressed', 'true');
  // The session ends on the server (signed out elsewhere): the next action leads back to sign-in.
  const session = await (await page.request.get('/api/v1/auth/session')).json();
  const out = await page.request.post('/api/v1/auth/signout', { headers: { 'X-CSRF-Token': session.csrf_token } });
  expect(out.status()).toBe(204);
  await page.getByRole('button', { name: 'Logged out', exact: true }).click();
  await expect(page.getByText('Your session has ended. Please sign in again.')).toBeVisible();
  await signIn(page, 'hana', 'hana long passphrase');
  await expect(page.getByTestId('who')).toHaveText('hana');
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test('the keyboard shortcuts are shown on ?', async ({ page, request }) => {
  await agent(request, 'carol', 'carol long passphrase');
  await signIn(page, 'carol', 'carol long passphrase');
  await expect(page.getByTestId('who')).toHaveText('carol');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await shot(page, 'shortcuts');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test("a trainee's reply is reviewed, returned, revised, edited and approved, then sent once", async ({ browser, request }) => {
  await agent(request, 'tina', 'tina long passphrase', { trainee: true });
  await agent(request, 'rita', 'rita long passphrase', { reviewer: true });
  const tina = await (await browser.newContext()).newPage();
  await signIn(tina, 'tina', 'tina long passphrase');
  await tina.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(tina.getByRole('button', { name: 'Ready', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await request.post('/api/v1/webform', {
    data: { from: 'bo@example.com', name: 'Bo', subject: 'Refund please', body: 'I was charged twice.' },
  });
  await tina.getByTestId('offers').getByRole('button', { name: 'Accept' }).click();
  await tina.getByLabel('Reply').fill('Hello Bo,\nwe refunded you.\ntina');
  await tina.getByRole('button', { name: 'Release' }).click();
  await expect(tina.locator('.actions [role=status]')).toHaveText('Released: it waits for a reviewer.');

  // The reviewer sees it beside the customer's message and returns it with a comment.
  const rita = await (await browser.newContext()).newPage();
  await signIn(rita, 'rita', 'rita long passphrase');
  await rita.getByRole('button', { name: 'Ready', exact: true }).click();
  await rita.getByRole('tab', { name: 'Reviews' }).click();
  await rita.getByTestId('reviews').getByRole('button', { name: /Refund please/ }).click();
  await expect(rita.getByTestId('customer')).toContainText('I was charged twice.');
  await expect(rita.getByTestId('reply')).toContainText('we refunded you.');
  await rita.getByLabel('Comment for the author').fill('Please apologise for the double charge.');
  await rita.getByRole('button', { name: 'Return for revision' }).click();

  // Back on the trainee's desk with the comment; revised and released again.
  await expect(tina.getByTestId('returned')).toContainText('Please apologise for the double charge.');
  await tina.getByLabel('Reply').fill('Hello Bo,\nsorry for the double charge: we refunded you.\ntina');
  await tina.getByRole('button', { name: 'Release' }).click();
  await expect(tina.locator('.actions [role=status]')).toHaveText('Released: it waits for a reviewer.');
  expect(mailTo('bo@example.com')).toHaveLength(0);

  // The reviewer edits and approves it, the change shown as a diff first.
  await rita.getByTestId('reviews').getByRole('button', { name: /Refund please/ }).click();
  await expect(rita.getByTestId('reply')).toContainText('sorry for the double charge');
  await rita.getByRole('button', { name: 'Edit' }).click();
  await rita.getByLabel('Edit').fill('Hello Bo,\nsorry for the double charge: we refunded you today.\ntina');
  await expect(rita.locator('.diff .add')).toContainText('we refunded you today.');
  await expect(rita.locator('.diff .del')).toContainText('we refunded you.');
  await shot(rita, 'review');
  await rita.getByRole('button', { name: 'Approve as edited' }).click();
  await expect(rita.getByTestId('reviews')).toContainText('Nothing here.');

  // Sent once, with the edited text, threaded to the customer's message.
  await expect.poll(() => mailTo('bo@example.com').length).toBe(1);
  const sent = mailTo('bo@example.com')[0];
  expect(sent).toContain('we refunded you today.');
  expect(sent).toMatch(/Subject: Re: Refund please/);
  for (const p of [tina, rita]) await p.getByRole('button', { name: 'Sign out' }).click();
  await expect(rita.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('a supervisor watches the queues live, moves waiting work and is refused in words', async ({ page, request }) => {
  const headers = admin();
  expect((await request.post('/api/v1/admin/users', { headers, data: { name: 'sam', role: 'supervisor' } })).status()).toBe(201);
  expect((await request.post('/api/v1/admin/users/sam/password', { headers, data: { password: 'sam long passphrase' } })).status()).toBe(204);
  await signIn(page, 'sam', 'sam long passphrase');
  await expect(page.getByRole('tab', { name: 'Dashboard' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('agents')).toContainText('alice');
  const depth = page.getByTestId('depth-inbound');
  const before = Number((await depth.textContent()) || '0');

  // Nobody is ready: a customer's message waits, and the queue shows it without a reload.
  await request.post('/api/v1/webform', {
    data: { from: 'cy@example.com', subject: 'Invoice copy', body: 'Please send it again.' },
  });
  await expect(depth).toHaveText(String(before + 1));
  await page.getByTestId('waiting').getByText('Invoice copy').click();
  await page.getByLabel('Queue', { exact: true }).fill('vip');
  await page.getByRole('button', { name: 'Move', exact: true }).click();
  await expect(page.getByTestId('answers')).toContainText('done');
  await expect(page.getByTestId('depth-vip')).toHaveText('1');
  // The queue's last hours, charted: how many waited, and the share answered in target.
  await expect(page.getByTestId('chart-depth')).toContainText('Waiting over the last 8 h: inbound');
  await expect(page.getByTestId('chart-depth').locator('path')).toHaveCount(2);
  await expect(page.getByTestId('chart-service')).toBeVisible();
  await shot(page, 'dashboard');

  // Assigned to alice, it is hers: another change is refused, and the reason says who holds it.
  await page.getByRole('button', { name: 'vip' }).click();
  await page.getByTestId('waiting').getByText('Invoice copy').click();
  await page.getByLabel('Agent', { exact: true }).fill('alice');
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await expect(page.getByTestId('answers')).toContainText('done');
  await page.getByLabel('priority', { exact: true }).fill('7');
  await page.getByRole('button', { name: 'Set priority' }).click();
  await expect(page.getByTestId('answers')).toContainText('held by alice');

  // Its replay: who did what when, and the state after each step.
  await page.getByTestId('answers').getByRole('button', { name: 'Timeline' }).last().click();
  const timeline = page.getByTestId('timeline');
  await expect(timeline.locator('.steps li', { hasText: 'MovedBySupervisor' })).toContainText('user:sam');
  await expect(timeline.locator('.steps li', { hasText: 'AssignedBySupervisor' })).toContainText('with alice');
  await expect(timeline.locator('svg circle')).not.toHaveCount(0);

  // The parcel alice took from an offer: the timeline says why routing chose her.
  const ann = await (await page.request.get('/api/v1/contacts?email=ann@example.com')).json();
  await page.getByLabel('Interaction', { exact: true }).fill(ann.interactions[0].interaction_id);
  await page.getByRole('button', { name: 'Timeline' }).last().click();
  await expect(timeline.locator('.steps li', { hasText: 'OfferExplained' })).toContainText('rank 1 / 1');
  await expect(timeline.locator('.steps li', { hasText: 'InteractionOffered' })).toContainText('offered to alice');
  await shot(page, 'timeline');

  // Stopped with a reason, waiting work leaves the queue.
  deliver([
    'From: Prize Desk <win@example.net>', 'To: support@example.test', 'Subject: You won a prize',
    'Message-ID: <prize-1@example.net>', 'Date: Thu, 26 Nov 2026 12:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8', '', 'Click here.', '',
  ]);
  await page.getByRole('button', { name: 'inbound' }).click();
  await page.getByTestId('waiting').getByText('You won a prize').click({ timeout: 20_000 });
  await page.getByLabel('Reason to stop').fill('spam');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('answers')).toContainText('done');
  await expect(page.getByTestId('waiting')).not.toContainText('You won a prize');
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test("an auditor finds a reviewer's actions, reads an event's hash, exports and verifies the chain", async ({ page, request }) => {
  const headers = admin();
  expect((await request.post('/api/v1/admin/users', { headers, data: { name: 'audrey', role: 'auditor' } })).status()).toBe(201);
  expect((await request.post('/api/v1/admin/users/audrey/password', { headers, data: { password: 'audrey long passphrase' } })).status()).toBe(204);
  await signIn(page, 'audrey', 'audrey long passphrase');
  await expect(page.getByRole('tab', { name: 'Audit' })).toHaveAttribute('aria-selected', 'true');

  await page.getByLabel('Principal').fill('user:rita');
  await page.getByRole('button', { name: 'Search' }).click();
  const events = page.getByTestId('events');
  await expect(events).toContainText('ReturnedForRevision');
  await expect(events).toContainText('ReviewEdited');
  await expect(events.locator('tbody tr')).not.toHaveCount(0);
  for (const principal of await events.locator('tbody tr td:nth-child(3)').allTextContents()) {
    expect(principal).toBe('user:rita');
  }
  await events.locator('tbody tr').first().getByRole('button').click();
  await expect(page.getByTestId('hash')).toHaveText(/^[0-9a-f]{64}$/);

  // The QA reviews, exported as the command line exports them.
  await page.getByLabel('Principal').fill('');
  await page.getByLabel('Kind').selectOption('review');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(events).toContainText('ReviewDecided');
  const found = await events.locator('tbody tr').count();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(found);
  expect(JSON.parse(lines[0]).hash).toMatch(/^[0-9a-f]{64}$/);

  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByTestId('verified')).toContainText('The chain verifies');
  await shot(page, 'audit');
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test('a mail with script, event handlers, javascript: links and remote images runs nothing and loads nothing', async ({ page, request, baseURL }) => {
  // Where the mail's remote references point: any request reaching it is a failure.
  const hits = [];
  const trap = http.createServer((req, res) => { hits.push(req.url); res.end('x'); });
  await new Promise((ready) => trap.listen(0, '127.0.0.1', ready));
  const remote = `http://127.0.0.1:${trap.address().port}`;
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));

  await agent(request, 'dave', 'dave long passphrase');
  await signIn(page, 'dave', 'dave long passphrase');
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  const html = [
    `<html><head><script>window.parent.pwned = 1; alert('script')</script>`,
    `<link rel="stylesheet" href="${remote}/style.css"><meta http-equiv="refresh" content="0;url=${remote}/refresh"></head>`,
    `<body onload="alert('onload')"><p>Please see the picture of the broken box.</p>`,
    `<img src="${remote}/pixel.png" onerror="alert('onerror')" width="1" height="1">`,
    `<img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/%3E">`,
    `<a href="javascript:alert('link')">Track your parcel</a> <a href="  JaVaScRiPt:alert('spaced')">or here</a>`,
    `<div style="background:url(${remote}/background.png)" onmouseover="alert('hover')">Hover me</div>`,
    `<iframe src="${remote}/frame"></iframe><object data="${remote}/object"></object>`,
    `<svg><script>alert('svg')</script></svg><form action="${remote}/form"><button>Send</button></form>`,
    `</body></html>`,
  ].join('\r\n');
  deliver([
    'From: Mallory <mallory@example.com>', 'To: support@example.test', 'Subject: Broken box',
    'Message-ID: <hostile-1@example.com>', 'Date: Thu, 26 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8', '', html, '',
  ]);
  const offers = page.getByTestId('offers');
  await expect(offers).toContainText('Broken box', { timeout: 20_000 });
  await offers.getByRole('button', { name: 'Accept' }).click();
  const pane = page.locator('iframe.mail');
  const frame = page.frameLocator('iframe.mail');
  await expect(frame.locator('body')).toContainText('Please see the picture of the broken box.');
  // The frame may run no script and is of no origin: nothing in it reaches the desktop.
  const sandbox = await pane.getAttribute('sandbox');
  expect(sandbox).not.toContain('allow-scripts');
  expect(sandbox).not.toContain('allow-same-origin');
  // What the server let through holds nothing active or remote.
  await expect(frame.locator('script, iframe, object, link, meta[http-equiv=refresh], form')).toHaveCount(0);
  await expect(frame.locator('[onload], [onerror], [onmouseover], [style]')).toHaveCount(0);
  await expect(frame.locator('a[href*="javascript" i]')).toHaveCount(0);
  await expect(frame.locator(`img[src^="${remote}"], img[src^="data:image/svg"]`)).toHaveCount(0);
  await frame.getByText('Track your parcel').click();
  await frame.getByText('Hover me').hover();
  await page.waitForTimeout(1000);
  await shot(page, 'hostile');
  expect(dialogs).toEqual([]);
  expect(hits).toEqual([]);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();
  expect(requests.filter((u) => !u.startsWith(baseURL) && u !== 'about:srcdoc' && !u.startsWith('data:'))).toEqual([]);
  trap.close();
  await page.getByRole('button', { name: 'Sign out' }).click();
});

test('an agent consults a colleague, who answers in their own desktop, and corrects the category', async ({ browser, request }) => {
  await agent(request, 'erin', 'erin long passphrase');
  await agent(request, 'finn', 'finn long passphrase');
  const erin = await (await browser.newContext()).newPage();
  const finn = await (await browser.newContext()).newPage();
  await signIn(erin, 'erin', 'erin long passphrase');
  await signIn(finn, 'finn', 'finn long passphrase');
  await expect(finn.getByTestId('who')).toHaveText('finn');
  await erin.getByRole('button', { name: 'Ready', exact: true }).click();
  deliver([
    'From: Gil <gil@example.com>', 'To: support@example.test', 'Subject: Charged twice',
    'Message-ID: <charged-1@example.com>', 'Date: Thu, 26 Nov 2026 11:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8', '', 'My card was charged twice for order 4411.', '',
  ]);
  await expect(erin.getByTestId('offers')).toContainText('Charged twice', { timeout: 20_000 });
  await erin.getByTestId('offers').getByRole('button', { name: 'Accept' }).click();
  await expect(erin.locator('.reader .body')).toContainText('charged twice');

  // Erin asks finn; the invitation appears on finn's desktop without a reload.
  await erin.getByLabel('Colleague to consult').fill('finn');
  await erin.getByLabel('Question').fill('Was order 4411 refunded already?');
  await erin.getByRole('button', { name: 'Consult', exact: true }).click();
  await expect(erin.getByTestId('notes')).toContainText('Was order 4411 refunded already?');
  const invited = finn.getByTestId('consulting');
  await expect(invited).toContainText('Charged twice');
  await invited.getByRole('button', { name: 'Charged twice' }).click();
  await expect(finn.getByTestId('notes')).toContainText('erin → finn');
  await finn.getByLabel('Your answer (internal)').fill('Yes, refunded on 3 May (ref R-1187).');
  await finn.getByRole('button', { name: 'Add answer' }).click();
  await expect(finn.getByTestId('notes')).toContainText('ref R-1187');
  await shot(finn, 'consulted');
  await finn.getByRole('button', { name: 'End consultation' }).click();
  await expect(finn.getByTestId('consulting')).toHaveCount(0);

  // Erin reads the answer as it comes, corrects the category, and finishes.
  await expect(erin.getByTestId('notes')).toContainText('Yes, refunded on 3 May (ref R-1187).');
  await expect(erin.getByTestId('notes')).toContainText('consultation ended');
  await erin.getByRole('combobox', { name: 'Category' }).fill('billing');
  await erin.getByRole('button', { name: 'Change category' }).click();
  await expect(erin.getByRole('group', { name: 'Category' }).getByRole('status')).toHaveText('Category: billing');
  await erin.getByLabel('Disposition').selectOption('resolved');
  await erin.getByRole('button', { name: 'Done', exact: true }).click();
  await expect(erin.getByTestId('assigned')).toContainText('Nothing here.');
  for (const p of [erin, finn]) await p.getByRole('button', { name: 'Sign out' }).click();
});

test('moving between interactions never carries a typed reply over', async ({ page, request }) => {
  await agent(request, 'ivy', 'ivy long passphrase');
  await signIn(page, 'ivy', 'ivy long passphrase');
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  for (const [n, subject] of [[1, 'First question'], [2, 'Second question']]) {
    deliver([
      `From: Customer ${n} <c${n}@example.com>`, 'To: support@example.test', `Subject: ${subject}`,
      `Message-ID: <switch-${n}@example.com>`, 'Date: Thu, 26 Nov 2026 13:00:00 +0000',
      'Content-Type: text/plain; charset=utf-8', '', `Question ${n}.`, '',
    ]);
    await expect(page.getByTestId('offers')).toContainText(subject, { timeout: 20_000 });
    await page.getByTestId('offers').getByRole('button', { name: 'Accept' }).click();
    await expect(page.getByTestId('assigned')).toContainText(subject);
  }
  await page.getByTestId('assigned').getByRole('button', { name: 'First question' }).click();
  await page.getByLabel('Reply').fill('Meant for the first customer only.');
  // A modified key is no shortcut: Ctrl+J from the page changes nothing.
  await page.locator('.reader h2').click();
  await page.keyboard.press('Control+j');
  await expect(page.locator('.reader h2')).toHaveText('First question');
  const order = await page.getByTestId('assigned').locator('button.open').allTextContents();
  await page.keyboard.press(order.indexOf('First question') === 0 ? 'j' : 'k');
  await expect(page.locator('.reader h2')).toHaveText('Second question');
  await expect(page.getByLabel('Reply')).toHaveValue('');
  await shot(page, 'switched');
  await page.getByRole('button', { name: 'Sign out' }).click();
});
