// End-to-end tests of ONE's web app: playwright-core drives Debian's
// chromium (headless, nothing downloaded) against the real `one serve` and
// the fake model server (tests/unit/fake_llm_main.c), as a person would:
// sign up, start a conversation, mention an agent through the @ menu and
// watch its reply stream in (with its tool-use notice), react and comment,
// see another person's message arrive live and the list reorder,
// edit my own agent and find someone else's read-only, move a learning step
// to Completed, and look at the admin screen. Every screen is saved as a
// screenshot in $E2E_OUT (look at them).
//
// Run by scripts/e2e.sh (ctest's e2e_web): ONE_BINARY, ONE_FAKE_LLM, E2E_OUT.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const ONE = process.env.ONE_BINARY;
const FAKE = process.env.ONE_FAKE_LLM;
const OUT = process.env.E2E_OUT || join(tmpdir(), 'one-e2e-shots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 30000; // a guard for slow machines, never a timing assertion

let dir, fake, one, base, fakeUrl, browser, page;

// Starts cmd and resolves with the first line of its output that pick turns
// into a value.
function startAndRead(cmd, args, env, stream, pick) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
    let buf = '';
    const onData = d => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        const v = pick(line);
        if (v) { child[stream].off('data', onData); resolve({child, value: v}); return; }
      }
    };
    child[stream].on('data', onData);
    child.on('exit', code => reject(new Error(`${cmd} exited (${code}) before it was ready: ${buf}`)));
  });
}

async function api(method, path, body, token) {
  const res = await fetch(base + '/api/v1' + path, {
    method, headers: {'Content-Type': 'application/json', ...(token ? {Authorization: `Bearer ${token}`} : {})},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const data = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function script(rules) {
  const res = await fetch(fakeUrl + '/_script', {method: 'POST', body: JSON.stringify(rules)});
  assert.equal(res.status, 200);
}

async function shot(name, p = page) {
  await p.screenshot({path: join(OUT, `${name}.png`), fullPage: true});
}

before(async () => {
  assert.ok(ONE && FAKE, 'ONE_BINARY and ONE_FAKE_LLM name the binaries');
  mkdirSync(OUT, {recursive: true});
  dir = mkdtempSync(join(tmpdir(), 'one-e2e-'));
  const f = await startAndRead(FAKE, ['0'], {}, 'stdout', l => (/^listening (\d+)/.exec(l) || [])[1]);
  fake = f.child;
  fakeUrl = `http://127.0.0.1:${f.value}`;
  const s = await startAndRead(ONE, ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 't.db')],
    {ONE_LLM_BASE_URL: fakeUrl + '/v1', ONE_LLM_MODEL: 'fake-model', ONE_LOG: 'warn'}, 'stderr', l => {
      try { const j = JSON.parse(l); return j.msg === 'listening' ? j.url : null; } catch (e) { return null; }
    });
  one = s.child;
  base = s.value;
  browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: ['--no-sandbox']});
  page = await browser.newPage({viewport: {width: 1280, height: 800}});
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', e => console.error('page error:', e.message));
});

after(async () => {
  if (browser) await browser.close();
  if (one) one.kill('SIGTERM');
  if (fake) fake.kill('SIGTERM');
  if (dir) rmSync(dir, {recursive: true, force: true});
});

test('sign up and land on the chats', async () => {
  await page.goto(base + '/');
  await page.waitForURL(/#\/signin$/);
  await shot('01-sign-in');
  await page.click('text=Create an account');
  await page.fill('input[name=name]', 'Alice Example');
  await page.fill('input[name=email]', 'alice@example.com');
  await page.fill('input[name=password]', 'correct horse battery');
  await shot('02-sign-up');
  await page.click('button[type=submit]');
  await page.waitForSelector('#new-chat');
  assert.match(await page.textContent('.who'), /Alice Example/);
  await shot('03-chats-empty');
});

test('start a conversation, mention Sage with the @ menu, see the reply stream in', async () => {
  await script([{match: 'You are Sage', times: 1, tool_calls: [{name: 'listConversationParticipants', arguments: {}}]},
                {match: 'You are Sage', chunks: ['Your customers ', 'want faster ', 'delivery and ', 'clear prices.'],
                 chunk_delay_ms: 400}]);
  await page.click('#new-chat');
  await page.fill('input[name=title]', 'Launch plan');
  await page.click('label.pick:has-text("Sage") input');
  await page.click('button:has-text("Start")');
  await page.waitForSelector('#composer');
  await page.type('#composer', 'What do my customers want? @Sa');
  await page.waitForSelector('#mentions li:has-text("Sage")');
  await shot('04-mention-menu');
  await page.keyboard.press('Enter'); // picks the highlighted agent
  assert.match(await page.inputValue('#composer'), /@\[Sage\]\(agent:[0-9a-z]+\) $/);
  await page.keyboard.press('Enter'); // sends
  await page.waitForSelector('.msg .mention:has-text("@Sage")');
  await page.waitForSelector('.msg.streaming');
  await shot('05-streaming');
  await page.waitForSelector('.msg.agent:not(.streaming) .text:has-text("Your customers want faster delivery and clear prices.")');
  assert.equal(await page.locator('.msg.streaming').count(), 0, 'the streamed bubble gives way to the message');
  await page.waitForSelector('.msg.system .text:has-text("Sage used listConversationParticipants")');
  await page.click('.msg.agent button[aria-label="React like"]');
  await page.waitForSelector('.msg.agent button[aria-label="React like"] .n:has-text("1")');
  await page.click('.msg.agent .comments-toggle');
  await page.fill('.msg.agent .comments input', 'Useful, thanks');
  await page.click('.msg.agent .comments button:has-text("Comment")');
  await page.waitForSelector('.msg.agent .comments li:has-text("Useful, thanks")');
  await page.waitForSelector('.msg.agent .comments-toggle .n:has-text("1")');
  await shot('06-chat');
});

test("another person's message arrives live", async () => {
  const bob = await api('POST', '/auth/signup', {email: 'bob@example.com', password: 'correct horse battery', name: 'Bob'});
  const conv = decodeURIComponent(page.url().split('#/c/')[1]);
  await page.fill('input[aria-label="Email of the person to add"]', 'nobody@example.com');
  await page.click('button:has-text("Add person")');
  await page.waitForSelector('.status.bad:has-text("no one has the email address")');
  await page.fill('input[aria-label="Email of the person to add"]', 'bob@example.com');
  await page.click('button:has-text("Add person")');
  await page.waitForSelector('.people .chip:has-text("Bob")');
  await api('POST', `/conversations/${conv}/messages`, {content: 'Bob here: I can help with pricing.'}, bob.token);
  await page.waitForSelector('.msg .text:has-text("Bob here: I can help with pricing.")');
  await shot('07-live-message');
  // the list is live: news moves a conversation to the top
  await page.click('#new-chat');
  await page.fill('input[name=title]', 'Second thoughts');
  await page.click('button:has-text("Start")');
  await page.waitForSelector('.convs li:first-child:has-text("Second thoughts")');
  await api('POST', `/conversations/${conv}/messages`, {content: 'Bob again: pricing draft attached.'}, bob.token);
  await page.waitForSelector('.convs li:first-child:has-text("Launch plan")');
  await page.click('.convs a:has-text("Launch plan")');
  await page.waitForSelector('.msg .text:has-text("Bob again: pricing draft attached.")');
  await page.setViewportSize({width: 390, height: 800});
  await shot('08-chat-phone');
  await page.setViewportSize({width: 1280, height: 800});
});

test("edit my own agent, and find someone else's read-only", async () => {
  await page.click('nav >> text=Agents');
  await page.waitForSelector('#agent-search');
  await page.fill('#agent-search', 'Sag');
  await page.waitForSelector('.agent-card:has-text("Sage")');
  assert.equal(await page.locator('.agent-card').count(), 1, 'the search narrows the directory');
  await page.fill('#agent-search', '');
  await shot('09-directory');
  await page.click('summary:has-text("Create an agent")');
  await page.fill('details form .field:has-text("Name") input', 'Scout');
  await page.fill('details form .field:has-text("Description") input', 'Finds leads');
  await page.click('details button:has-text("Create")');
  await page.waitForSelector('#save-agent');
  await page.fill('input[name=description]', 'Finds and qualifies leads');
  await page.click('label.pick:has-text("Foundation") input');
  await page.click('label.pick:has-text("webSearch") input');
  await page.fill('.configs textarea', '{"site": "example.org"}');
  await page.click('#save-agent');
  await page.waitForSelector('.status:has-text("Saved.")');
  await page.reload();
  await page.waitForSelector('input[name=description]');
  assert.equal(await page.inputValue('input[name=description]'), 'Finds and qualifies leads');
  assert.equal(await page.isChecked('label.pick:has-text("webSearch") input'), true);
  assert.deepEqual(JSON.parse(await page.inputValue('.configs textarea')), {site: 'example.org'}, "the tool's settings are kept");
  await shot('10-my-agent');
  await page.click('text=← All agents');
  await page.click('.agent-card:has-text("Director") a');
  await page.waitForSelector('text=Read-only: only its creator edits it');
  assert.equal(await page.locator('#save-agent').count(), 0, 'no save for an agent that is not mine');
  assert.equal(await page.getAttribute('input[name=description]', 'readonly'), '');
  const refused = await page.evaluate(async () => {
    const id = location.hash.split('/')[2];
    const r = await fetch(`/api/v1/agents/${id}`, {method: 'PATCH', headers: {'Content-Type': 'application/json',
      'X-CSRF-Token': sessionStorage.getItem('one.csrf')}, body: JSON.stringify({description: 'mine now'})});
    return r.status;
  });
  assert.equal(refused, 403, 'the server refuses it too');
  await shot('11-someone-elses-agent');
});

test('move a learning step to Completed', async () => {
  await page.click('nav >> text=Learning');
  await page.waitForSelector('.step[data-step="Foundation"]');
  await page.click('button[aria-label="Move Foundation to In Progress"]');
  await page.waitForSelector('.step[data-step="Foundation"][data-status="In Progress"]');
  await page.click('button[aria-label="Move Foundation to Completed"]');
  await page.waitForSelector('.step[data-step="Foundation"][data-status="Completed"]');
  assert.match(await page.textContent('.flow h2'), /1 of 10 completed/);
  await shot('12-learning');
});

test('the admin screen, and the dark theme', async () => {
  const admin = spawn(ONE, ['--db', join(dir, 't.db'), 'user', 'create', '--email', 'root@example.com', '--admin'],
                      {env: {...process.env, ONE_PASSWORD: 'an admin password'}, stdio: 'ignore'});
  assert.equal(await new Promise(r => admin.on('exit', r)), 0);
  const ctx = await browser.newContext({viewport: {width: 1280, height: 900}, colorScheme: 'dark'});
  const p = await ctx.newPage();
  p.setDefaultTimeout(WAIT);
  await p.goto(base + '/#/signin');
  await p.fill('input[name=email]', 'root@example.com');
  await p.fill('input[name=password]', 'an admin password');
  await p.click('button[type=submit]');
  await p.click('nav >> text=Admin');
  await p.waitForSelector('#schema-name');
  assert.equal(await p.textContent('#schema-name'), 'one');
  assert.ok(await p.locator('text=backfill-created-at').count() > 0, 'the steps are listed');
  await shot('13-admin-dark', p);
  await ctx.close();
  await page.click('#signout');
  await page.waitForURL(/#\/signin$/);
});

test('the admin screen migrates an agent-inbox database while it serves, and verifies it', async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const mdir = mkdtempSync(join(tmpdir(), 'one-e2e-migrate-'));
  const run = (cmd, args, env) => {
    const r = spawnSync(cmd, args, {cwd: mdir, env: {...process.env, ...env}, encoding: 'utf8'});
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  run('python3', [join(root, 'tests/fixtures/gen_agent_inbox.py'), 'in.zip', '--seed', '3', '--users', '20',
                  '--agents', '10', '--conversations', '10', '--messages', '120']);
  run(ONE, ['--db', 'm.db', 'import', 'in.zip']);
  run(ONE, ['--db', 'm.db', 'migrate', 'up', '--to', 'expand']);
  run(ONE, ['--db', 'm.db', 'user', 'create', '--email', 'ops@example.com', '--admin'], {ONE_PASSWORD: 'an ops password'});
  const s = await startAndRead(ONE, ['serve', '--listen', '127.0.0.1:0', '--db', join(mdir, 'm.db')], {ONE_LOG: 'warn'},
    'stderr', l => { try { const j = JSON.parse(l); return j.msg === 'listening' ? j.url : null; } catch (e) { return null; } });
  const ctx = await browser.newContext({viewport: {width: 1280, height: 900}});
  const p = await ctx.newPage();
  p.setDefaultTimeout(WAIT);
  try {
    await p.goto(s.value + '/#/signin');
    await p.fill('input[name=email]', 'ops@example.com');
    await p.fill('input[name=password]', 'an ops password');
    await p.click('button[type=submit]');
    await p.click('nav >> text=Admin');
    await p.waitForSelector('#schema-name:has-text("one-expand")');
    assert.equal(await p.getAttribute('#steps tr[data-step="backfill-created-at"]', 'data-state'), 'pending');
    await shot('14-admin-before-migration', p);
    await p.click('button:has-text("Migrate up")');
    await p.waitForSelector('.status:has-text("queued as a background job")');
    for (let i = 0; i < 300; i++) { // a guard, not a timing assertion
      await p.reload();
      await p.waitForSelector('#steps');
      if (await p.getAttribute('#steps tr[data-step="backfill-system-authors"]', 'data-state') === 'done') break;
      await p.waitForTimeout(100);
    }
    assert.equal(await p.getAttribute('#steps tr[data-step="backfill-system-authors"]', 'data-state'), 'done');
    await p.click('button:has-text("Verify")');
    for (let i = 0; i < 300 && !(await p.locator('#verified:has-text("passed")').count()); i++) {
      await p.waitForTimeout(100);
      await p.reload();
      await p.waitForSelector('#verified');
    }
    assert.match(await p.textContent('#verified'), /passed/);
    await shot('15-admin-migrated', p);
  } finally {
    await ctx.close();
    s.child.kill('SIGTERM');
    await new Promise(r => s.child.on('exit', r));
    rmSync(mdir, {recursive: true, force: true});
  }
});
