// A job's admin endpoint against web pages, in a real browser (Debian's chromium, driven by
// playwright-core): a page of another loopback origin cannot cancel or drain the job, nor read
// it — not with a form, not with a fetch of any mode — and neither can a page that points a name
// of its own at 127.0.0.1 (DNS rebinding, here by the browser's host resolver rules). What
// `bikestream jobs` sends still drains it.
//
// Environment: BIKESTREAM_BINARY, CONSOLE_NPM_DIR (where `npm ci` installed playwright-core),
// CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromiumOrSkip, start as startIn } from '../support/browser.mjs';

const { chromium, executablePath: chromiumPath } = chromiumOrSkip();

const binary = process.env.BIKESTREAM_BINARY;
const work = mkdtempSync(path.join(tmpdir(), 'bikestream-admin-'));
const env = { ...process.env, BIKESTREAM_STATE_DIR: path.join(work, 'state') };
const children = [];

const start = (args, pattern) => startIn(binary, env, children, args, pattern);

async function main() {
  const { child: job, match } = await start(
    ['ingest', '--push-listen', '127.0.0.1:0', '--warehouse', `sqlite:${path.join(work, 'w.db')}`],
    /job (\S+) streaming .* admin http:\/\/127\.0\.0\.1:(\d+) /);
  const [, jobId, adminPort] = match;
  const admin = `http://127.0.0.1:${adminPort}`;
  // As a probe on this machine asks it: no Origin, a loopback Host.
  const state = async () => (await (await fetch(`${admin}/job`)).json()).state;
  assert.equal(await state(), 'RUNNING');

  // The attacker's page, on another loopback origin.
  const attacker = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>elsewhere</title><p>a page of another origin</p>');
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const elsewhere = `http://127.0.0.1:${attacker.address().port}/`;

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(elsewhere);
    // A fetch that needs no preflight: sent, and refused (no X-Bikestream-Admin, another Origin).
    await page.evaluate((url) => fetch(`${url}/cancel`, { method: 'POST', mode: 'no-cors' }), admin);
    assert.equal(await state(), 'RUNNING');
    // With the header a preflight goes first, which the endpoint never allows.
    const withHeader = await page.evaluate((url) =>
      fetch(`${url}/cancel`, { method: 'POST', headers: { 'X-Bikestream-Admin': '1' } }).then(() => 'sent', () => 'blocked'), admin);
    assert.equal(withHeader, 'blocked');
    assert.equal(await state(), 'RUNNING');
    // Reading the job: refused (another Origin), and the browser would not show it anyway.
    const read = await page.evaluate((url) => fetch(`${url}/job`).then((r) => r.text(), () => 'blocked'), admin);
    assert.equal(read, 'blocked');
    // A form, which a browser posts without asking anyone.
    const posted = page.waitForNavigation();
    await page.evaluate((url) => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = `${url}/drain`;
      document.body.append(form);
      form.submit();
    }, admin);
    const formReply = await posted;
    assert.equal(formReply.status(), 403);
    assert.equal(await state(), 'RUNNING');

    // DNS rebinding: a name of the attacker's that now points at 127.0.0.1, so that the page is of
    // the endpoint's own origin as far as the browser knows. Its Host header gives it away.
    const rebound = await browser.newPage();
    const reply = await rebound.goto(`http://rebind.test:${adminPort}/job`);
    assert.equal(reply.status(), 403);
    assert.doesNotMatch(await rebound.content(), new RegExp(jobId));
    const sameOrigin = await rebound.evaluate(() =>
      fetch('/cancel', { method: 'POST', headers: { 'X-Bikestream-Admin': '1' } }).then((r) => r.status));
    assert.equal(sameOrigin, 403);
    assert.equal(await state(), 'RUNNING');
  } finally {
    await browser.close();
    attacker.close();
  }

  // What `bikestream jobs` sends is obeyed.
  execFileSync(binary, ['jobs', 'drain', jobId], { env, stdio: 'pipe' });
  assert.equal(await job.exited, 0, job.stderrText);
  assert.match(job.stderrText, /job DRAINED/);
  console.log('a page of another origin, and a rebound name, neither read nor steered the job; `jobs drain` did');
}

try {
  await main();
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
