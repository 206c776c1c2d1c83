// Drives the dashboard in Debian's headless Chromium (playwright-core, no browser
// download). Usage: node dashboard.mjs <facts.json> <screenshot dir>
// facts.json: {"base": "http://127.0.0.1:PORT", "run_id", "task_names": [..],
//              "deployment_id", "paused_queue"}
// Prints {"created_run_id": "..."} on success; exits 1 naming the failed check.
import { readFileSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [factsPath, shots] = process.argv.slice(2);
const facts = JSON.parse(readFileSync(factsPath, 'utf8'));
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.WEFT_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.text())) problems.push('console: ' + m.text()); });

function fail(msg) { throw new Error(msg); }

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

let created = '';
let logCount = 0;
try {
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
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.message);
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(JSON.stringify({ created_run_id: created, log_lines: logCount }));
