// Drives the dashboard in Debian's headless Chromium (playwright-core, no browser
// download). Usage: node dashboard.mjs <facts.json> <screenshot dir>
// facts.json: {"base": "http://127.0.0.1:PORT", "api_key", "run_id", "task_names": [..],
//              "deployment_id", "paused_queue"}
// Prints {"created_run_id": "...", "attacks": {...}} on success; exits 1 naming the failed
// check. Besides the pages: logging in through the login page, a foreign Host (a
// DNS-rebinding name mapped to 127.0.0.1 by the browser's resolver) answered 421, form posts
// from other origins that must not cancel a run, and logging out.
import { readFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const [factsPath, shots] = process.argv.slice(2);
const facts = JSON.parse(readFileSync(factsPath, 'utf8'));
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.WEFT_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage',
         // A rebinding attacker's name that resolves to this machine.
         '--host-resolver-rules=MAP rebind.example 127.0.0.1'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.text())) problems.push('console: ' + m.text()); });

function fail(msg) { throw new Error(msg); }
// Drops the browser's console notes about answers refused on purpose (401/403), nothing else.
function forgetRefusals() {
  const kept = problems.filter((p) => !/Failed to load resource: the server responded with a status of 40[13]/.test(p));
  problems.length = 0;
  problems.push(...kept);
}

// Navigates to a dashboard route and waits until its data is rendered.
async function open(route) {
  const path = route.split('?')[0];
  if (page.url() === 'about:blank') {
    await page.goto(`${facts.base}/#${route}`, { waitUntil: 'load' });
  } else {
    await page.evaluate((r) => { window.location.hash = '#' + r; }, route);
  }
  await page.waitForSelector(`body[data-loaded="1"][data-route="${path}"]`, { timeout: 20000 });
  const err = await page.$('#main .error');
  if (err) fail(`${route}: the page shows an error: ${await err.textContent()}`);
}

async function shot(name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// A page of another origin (the attacker's) that posts a form to `target` as soon as it
// loads. Answers the status the dashboard's server gave that post.
async function crossOriginFormPost(attackerHost, target) {
  const html = `<!doctype html><form method="POST" action="${target}">` +
    `<input name="state" value="CANCELLED"></form><script>document.forms[0].submit()</script>`;
  const server = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(html); });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const attacker = await context.newPage();
  try {
    const answered = attacker.waitForResponse((r) => r.url() === target, { timeout: 15000 });
    await attacker.goto(`http://${attackerHost}:${server.address().port}/`);
    return (await answered).status();
  } finally {
    await attacker.close();
    server.close();
  }
}

async function runState(id) {
  return page.evaluate(async (runId) => {
    const r = await fetch(`/api/flow-runs/${runId}`);
    return r.ok ? (await r.json()).state.name : `HTTP ${r.status}`;
  }, id);
}

let created = '';
let logCount = 0;
const attacks = {};
try {
  // 0. Not logged in: the login page, no data. A wrong key is refused on the page; the
  // right one opens the flow-runs page with the session in an HttpOnly cookie.
  await page.goto(`${facts.base}/#/runs`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-loaded="1"][data-auth="login"] #login-form', { timeout: 20000 });
  if (await page.$('tr[data-run-id]')) fail('login page: runs are shown before logging in');
  await shot('login');
  await page.fill('#login-key', 'weft_000000000000_' + '0'.repeat(64));
  await page.click('#login-submit');
  await page.waitForSelector('#login-error .error', { timeout: 10000 });
  forgetRefusals();  // the browser logs the refused login's 401 as a console error
  await page.fill('#login-key', facts.api_key);
  await page.click('#login-submit');
  await page.waitForSelector('body[data-loaded="1"][data-auth="in"][data-route="/runs"]', { timeout: 20000 });
  const cookies = await context.cookies(facts.base);
  const session = cookies.find((c) => c.name === 'weft_session');
  if (!session) fail('login: no weft_session cookie');
  if (!session.httpOnly || session.sameSite !== 'Strict') fail(`login: cookie is not HttpOnly+SameSite=Strict: ${JSON.stringify({ ...session, value: '…' })}`);
  if (session.value.includes(facts.api_key)) fail('login: the cookie holds the API key');
  if (await page.evaluate(() => document.cookie.includes('weft_session'))) fail('login: the page\'s script can read the session cookie');
  const who = await page.textContent('#whoami');
  if (!/\(admin\)/.test(who)) fail(`header: does not show who is logged in (${who})`);

  // 1. The flow-runs page lists the run made by the real flow.
  await open('/runs');
  if (!(await page.$(`tr[data-run-id="${facts.run_id}"]`))) fail(`flow runs page: run ${facts.run_id} is not listed`);
  if ((await page.$$('svg.chart circle')).length < 1) fail('flow runs page: the history chart has no points');
  await shot('flow-runs');

  // 2. The run's page shows its task runs (and its logs, once the log service exists).
  await open(`/runs/${facts.run_id}`);
  const names = await page.$$eval('#task-runs .task-run-name', (els) => els.map((e) => e.textContent));
  for (const want of facts.task_names) {
    if (!names.some((n) => n.startsWith(want))) fail(`run page: no task run named ${want}* (saw: ${names.join(', ')})`);
  }
  if ((await page.$$('svg.timeline rect')).length < 1) fail('run page: the task-run timeline has no bars');
  // Logs: lines when the server has them (with the task names), else a clear note.
  const logText = await page.$$eval('#logs .line', (els) => els.map((e) => e.textContent));
  const logsPanelText = await page.$eval('#main', (m) => m.textContent);
  if (!logText.length && !/Logs are not available yet|No log lines/.test(logsPanelText)) {
    fail('run page: neither log lines nor a note about them');
  }
  if (problems.length) fail(problems.join("\n"));  // e.g. a Content-Security-Policy violation
  if (facts.expect_logs) {
    if (!logText.length) fail('run page: no log lines shown');
    for (const want of facts.task_names) {
      if (!logText.some((l) => l.includes(`[${want}-`))) fail(`run page: no log line of task ${want}`);
    }
  }
  logCount = logText.length;
  await shot('flow-run');

  // 3. A deployment's "Run" button creates a run.
  await open(`/deployments/${facts.deployment_id}`);
  await page.fill('#run-parameters', JSON.stringify(facts.run_parameters || {}));
  await page.click('#run-now');
  const link = await page.waitForSelector('#run-created a', { timeout: 15000 });
  created = ((await link.getAttribute('href')) || '').replace('#/runs/', '');
  if (!created) fail('deployment page: Run did not report the created run');
  await shot('deployment');

  // 3b. Forms on other origins post to the cancel action of that (Scheduled) run: one
  // on another port of this host (same site: the browser sends the cookie; the server
  // refuses the Origin), one on another host name (cross-site: no cookie at all). Neither
  // cancels it.
  const before = await runState(created);
  const cancelUrl = `${facts.base}/api/flow-runs/${created}/cancel`;
  attacks.same_site_other_port = await crossOriginFormPost('127.0.0.1', cancelUrl);
  attacks.cross_site = await crossOriginFormPost('localhost', cancelUrl);
  for (const [how, status] of Object.entries(attacks)) {
    if (status < 400) fail(`cross-origin form post (${how}) answered ${status}`);
  }
  const after = await runState(created);
  if (after !== before) fail(`cross-origin form posts changed run ${created}: ${before} -> ${after}`);
  forgetRefusals();

  // 3c. A page reached through a name this server does not serve (DNS rebinding) gets 421.
  const port = new URL(facts.base).port;
  const rebind = await context.newPage();
  const answer = await rebind.goto(`http://rebind.example:${port}/#/runs`);
  attacks.foreign_host = answer.status();
  if (attacks.foreign_host !== 421) fail(`foreign Host: answered ${attacks.foreign_host}, not 421`);
  if (!(await rebind.textContent('body')).includes('rebind.example')) fail('foreign Host: the answer does not name the host');
  await rebind.close();

  // 4. A paused queue shows as paused (list and detail).
  await open('/work-queues');
  const listed = await page.textContent(`tr[data-queue="${facts.paused_queue}"] .queue-status`);
  if (listed !== 'paused') fail(`work queues page: ${facts.paused_queue} shows "${listed}", not paused`);
  await shot('work-queues');
  await open(`/work-queues/${facts.paused_queue}`);
  if ((await page.textContent('h1 .queue-status')) !== 'paused') fail('work queue page: not shown as paused');
  if (facts.agent_name) {
    const agents = await page.textContent('#queue-agents');
    if (!agents.includes(facts.agent_name)) fail(`work queue page: agent ${facts.agent_name} is not listed (${agents})`);
  }
  await shot('work-queue');

  // Notifications: the policy, its webhook masked (no path, so no key), its deliveries.
  await open('/notifications');
  const notes = await page.textContent('#main');
  if (!notes.includes('http://127.0.0.1:9/…')) fail('notifications page: the policy is not listed');
  if (notes.includes('secret-key')) fail('notifications page: shows the webhook path');
  if (!notes.includes(facts.notified_run_name)) fail('notifications page: no delivery for the run');
  await shot('notifications');

  // Concurrency limits: the limit made through the CLI, its slots in use (none: 0 / 3).
  await open('/concurrency-limits');
  const limits = await page.textContent('#main');
  if (!limits.includes(facts.concurrency_tag)) fail(`concurrency limits page: tag ${facts.concurrency_tag} is not listed`);
  const usage = await page.textContent(`[data-usage="${facts.concurrency_tag}"]`);
  if (usage.trim() !== '0 / 3') fail(`concurrency limits page: ${facts.concurrency_tag} shows "${usage}", not 0 / 3`);
  if (!(await page.$(`div[data-limit="${facts.concurrency_tag}"]`))) fail('concurrency limits page: no holders panel for the tag');
  await shot('concurrency-limits');

  // The other pages render without errors.
  for (const [route, name] of [['/flows', 'flows'], ['/storage', 'storage'], ['/deployments', 'deployments']]) {
    await open(route);
    await shot(name);
  }
  if (problems.length) fail(problems.join('\n'));

  // Log out: the login page comes back, for this route and the others; the API refuses.
  await page.click('#logout');
  await page.waitForSelector('body[data-loaded="1"][data-auth="login"] #login-form', { timeout: 20000 });
  await page.evaluate(() => { window.location.hash = '#/runs'; });
  await page.waitForSelector('body[data-loaded="1"][data-auth="login"][data-route="/runs"]', { timeout: 20000 });
  if (await page.$('tr[data-run-id]')) fail('after logout: runs are still shown');
  if (await page.isVisible('#logout')) fail('after logout: the Log out button is still shown');
  const status = await page.evaluate(async () => (await fetch('/api/flow-runs')).status);
  if (status !== 401) fail(`after logout: /api/flow-runs answered ${status}, not 401`);
  await shot('logged-out');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.message);
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(JSON.stringify({ created_run_id: created, log_lines: logCount, attacks }));
