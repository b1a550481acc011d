// The console in a real browser (Debian's chromium, driven by playwright-core): on a warehouse of
// a real week of Oslo City Bike, with dead letters, features and a live streaming job that is
// fed the week's last events (so that every view shows real data only),
// the page loads with no console errors and no request leaving the machine, each plot draws as
// many points as the API sent, choosing a station changes the plots, drain from the page takes
// the job to DRAINED, and replay from the page moves the dead letters a person fixed. A
// screenshot of each view lands in $SCREENSHOT_DIR (the build directory's console-screenshots/
// under ctest; docs/console/ for the docs).
//
// Environment: BIKESTREAM_BINARY, CONSOLE_NPM_DIR (where `npm ci` installed playwright-core),
// OSLO_WEEK, OSLO_STATIONS, SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium), and
// PIPELINE_SECONDS (default 0): how long to feed the job a varying stream, with duplicates and
// bad input, before the pipeline's screenshot (docs/console.md's has a minute).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { chromiumOrSkip, start as startIn } from '../support/browser.mjs';

const { chromium, executablePath: chromiumPath } = chromiumOrSkip();

const binary = process.env.BIKESTREAM_BINARY;
const work = mkdtempSync(path.join(tmpdir(), 'bikestream-console-'));
const stateDir = path.join(work, 'state');
const db = path.join(work, 'oslo.db');
const warehouse = `sqlite:${db}`;
const screenshots = process.env.SCREENSHOT_DIR;
mkdirSync(screenshots, { recursive: true });
const env = { ...process.env, BIKESTREAM_STATE_DIR: stateDir };
const children = [];

function run(...args) {
  return execFileSync(binary, args, { env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

function query(sql) {
  return JSON.parse(run('query', '--warehouse', warehouse, '--format', 'json', sql).trim().split('\n').join(',').replace(/^/, '[').replace(/$/, ']'));
}

// Starts a bikestream command and resolves with the first match of `pattern` in its stderr.
const start = (args, pattern) => startIn(binary, env, children, args, pattern);

async function until(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pushEnvelope(id, event) {
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), messageId: id, publishTime: new Date().toISOString() },
    subscription: 'projects/demo/subscriptions/console-test',
  });
}

async function main() {
  // The warehouse: the Oslo week with its stations (all but its last events, which the live job
  // is fed), a day of features, and bad input.
  const firstSnapshot = path.join(work, 'first-snapshot.jsonl');
  writeFileSync(firstSnapshot, gunzipSync(readFileSync(process.env.OSLO_WEEK)).toString().split('\n')[0] + '\n');
  run('gbfs', firstSnapshot, '--system', 'oslobysykkel', '--station-information', process.env.OSLO_STATIONS,
    '--to', 'warehouse', '--warehouse', warehouse);
  const week = run('gbfs', process.env.OSLO_WEEK, '--system', 'oslobysykkel').trim().split('\n');
  const tail = week.splice(week.length - 3000);
  const head = path.join(work, 'week-head.jsonl');
  writeFileSync(head, week.join('\n') + '\n');
  run('ingest', '--from', head, '--warehouse', warehouse);
  const bad = path.join(work, 'bad.jsonl');
  writeFileSync(bad, [
    '{"event_id":"fix-1","station_id":"489","ts_iso":"2024-10-13T12:01:00Z","kind":"pikup","delta":1}',
    '{"event_id":"fix-2","station_id":"489","ts_iso":"2024-10-13T12:02:00Z","kind":"pikup","delta":2}',
    '{not json',
  ].join('\n') + '\n');
  run('ingest', '--from', bad, '--warehouse', warehouse);
  // A person fixes the misspelt kind in place; the page's replay is to move those two rows.
  run('query', '--warehouse', warehouse, "UPDATE dead_letter SET payload = replace(payload, 'pikup', 'pickup') WHERE reason = 'bad_kind'");

  // A live streaming job (a Pub/Sub push endpoint needs no emulator) and the console.
  const job = await start(['ingest', '--push-listen', '127.0.0.1:0', '--warehouse', warehouse], /push requests at http:\/\/([\d.:]+)\//);
  // The console first, so that its job watcher sees the whole stream.
  const consoleServer = await start(['console', '--warehouse', warehouse, '--listen', '127.0.0.1:0'], /at (http:\/\/[\d.:]+\/)/);
  const base = consoleServer.match[1];
  // The totals were summed before the console served, so that no page waited for them.
  assert.match(consoleServer.child.stderrText, /15-minute totals brought up to date with raw_events in [\d.]+ s\n/);
  const pushUrl = `http://${job.match[1]}/`;
  const pushed = { received: 0, stored: 0, duplicates: 0, dead_lettered: 0 };
  const push = async (messageId, event, outcome) => {
    const reply = await fetch(pushUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: pushEnvelope(messageId, event) });
    assert.equal(reply.status, 204);
    pushed.received += 1;
    pushed[outcome] += 1;
  };
  const live = (i) => JSON.parse(tail[i]);
  let sent = 0;
  for (; sent < 30; sent++) await push(`m-${sent}`, live(sent), 'stored');
  let lastStored = sent - 1;
  const feedUntil = Date.now() + 1000 * Number(process.env.PIPELINE_SECONDS || 0);
  for (let tick = 0; Date.now() < feedUntil; tick++) {
    const burst = Math.round(6 + 5 * Math.sin(tick / 8));
    for (let k = 0; k < burst; k++, sent++) {
      if (sent % 13 === 0) await push(`m-${sent}`, live(lastStored), 'duplicates');  // Sent again under a new id.
      else if (sent % 17 === 0) await push(`m-${sent}`, { ...live(sent), kind: 'teleport' }, 'dead_lettered');
      else {
        await push(`m-${sent}`, live(sent), 'stored');
        lastStored = sent;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  // What the job was not fed (or dead-lettered): the week whole, every view real data.
  const rest = path.join(work, 'week-tail.jsonl');
  writeFileSync(rest, tail.join('\n') + '\n');
  run('ingest', '--from', rest, '--warehouse', warehouse);
  run('features', '--warehouse', warehouse, '--backfill', '2024-10-13T00:15:00Z..2024-10-14T00:00:00Z');

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    const elsewhere = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('request', (request) => { if (!request.url().startsWith(base)) elsewhere.push(request.url()); });
    await page.goto(base);
    const replies = (name) => page.evaluate((n) => window.bikestreamConsole.replies[n], name);
    const drawn = (name) => page.evaluate((n) => {
      const plot = window.bikestreamConsole.plots[n];
      return plot ? { points: plot.data[0].length, series: plot.series.length - 1, data: plot.data,
        x: [plot.scales.x.min, plot.scales.x.max] } : null;
    }, name);

    // Pipeline: the job, its counts, its rates drawn.
    const card = page.locator('.job').first();
    await until('the job on the page', async () => (await card.count()) > 0 && (await card.locator('.state').textContent()) === 'RUNNING');
    await until('the job\'s rates to have points', async () => {
      const jobs = await replies('jobs');
      return jobs && jobs.jobs.length === 1 && jobs.jobs[0].rates.t.length >= 2;
    });
    const jobId = await card.getAttribute('data-job');
    await until('the rates plot to match its reply', async () => {
      const jobs = await replies('jobs');
      const plot = await drawn(`job:${jobId}`);
      return plot && plot.points === jobs.jobs[0].rates.t.length && plot.series === 4;
    });
    await until('the job\'s counts to reach what was pushed', async () => (await replies('jobs')).jobs[0].received === pushed.received);
    const counts = (await replies('jobs')).jobs[0];
    for (const name of ['received', 'stored', 'duplicates', 'dead_lettered']) assert.equal(counts[name], pushed[name], name);
    await until('a latency figure on the page', async () => /p50 \d/.test(await card.locator('.counts').textContent()));
    await page.screenshot({ path: path.join(screenshots, 'pipeline.png'), fullPage: true });

    // Stations: a week of hourly buckets of the busiest station (15 minutes would read as a
    // barcode), then 15-minute ones, then another station.
    await page.click('button[data-view="stations"]');
    await until('the activity plot', async () => (await drawn('activity')) !== null);
    const first = await replies('activity');
    assert.equal(first.station_id, '489');  // The busiest of the week.
    assert.equal(first.bucket_seconds, 3600);
    const hours = (Date.parse(first.to) - Date.parse(first.from)) / 3600e3;
    assert.ok(first.buckets.length === Math.ceil(hours) || first.buckets.length === Math.ceil(hours) + 1, first.buckets.length);
    let plot = await drawn('activity');
    assert.equal(plot.points, first.buckets.length);
    assert.deepEqual(plot.data[1], first.buckets.map((b) => b.pickups));
    // The same SQL on the warehouse: its timestamps compare as the instants they write.
    const [stored] = query(`SELECT count(*) AS n FROM raw_events WHERE station_id = '489' AND kind = 'pickup' AND ts_iso >= '${first.from}' AND ts_iso < '${first.to}'`);
    assert.equal(plot.data[1].reduce((a, b) => a + b, 0), Number(stored.n));
    assert.match(await page.locator('#stations h2').first().textContent(), /per hour at/);
    assert.ok((await page.locator('#map circle').count()) >= 250);
    assert.ok((await page.locator('#busiest tbody tr').count()) === 10);
    await page.screenshot({ path: path.join(screenshots, 'stations.png'), fullPage: true });
    await page.selectOption('#bucket', '900');
    await until('15-minute buckets', async () => (await replies('activity')).bucket_seconds === 900);
    assert.equal((await replies('activity')).buckets.length, 7 * 96);
    await page.selectOption('#station', '421');
    await until('the plot of station 421', async () => {
      const reply = await replies('activity');
      const now = await drawn('activity');
      return reply.station_id === '421' && now.points === reply.buckets.length &&
        JSON.stringify(now.data[1]) === JSON.stringify(reply.buckets.map((b) => b.pickups));
    });
    plot = await drawn('activity');
    assert.notDeepEqual(plot.data[1], first.buckets.map((b) => b.pickups));
    assert.match(await page.locator('#stations .station-name').textContent(), /421/);

    // Features: the day's ticks of station 421, each feature a series.
    await page.click('button[data-view="features"]');
    await until('the features plot', async () => {
      const reply = await replies('features');
      const now = await drawn('features');
      return reply && now && reply.station_id === '421' && now.points === reply.as_of.length;
    });
    const features = await replies('features');
    assert.equal(features.as_of.length, 96);
    assert.equal((await drawn('features')).series, Object.keys(features.series).length);
    assert.equal(await page.locator('#feature-set tbody tr').count(), 4);
    await page.screenshot({ path: path.join(screenshots, 'features.png'), fullPage: true });

    // Dead letters: two fixed by hand, one still bad; replay moves the two.
    await page.click('button[data-view="dead-letters"]');
    await until('the dead-letter plot', async () => (await drawn('dead-letters')) !== null);
    const letters = await replies('dead-letters');
    // The file's three, and what the job dead-lettered (a kind no one knows).
    const fromFile = query(`SELECT reason, count(*) AS n FROM dead_letter GROUP BY reason ORDER BY reason`);
    assert.deepEqual(letters.by_reason, Object.fromEntries(fromFile.map((r) => [r.reason, r.n])));
    const total = Object.values(letters.by_reason).reduce((a, b) => a + b, 0);
    assert.equal(total, 3 + pushed.dead_lettered);
    assert.equal(letters.by_reason.bad_json, 1);
    assert.equal((await drawn('dead-letters')).points, new Set(letters.counts.map((c) => c.t)).size);
    // Its axis is the day asked for, not years around a few minutes of points.
    assert.deepEqual((await drawn('dead-letters')).x, [Date.parse(letters.from) / 1000, Date.parse(letters.to) / 1000]);
    await page.screenshot({ path: path.join(screenshots, 'dead-letters.png'), fullPage: true });
    await page.click('#replay');
    await until('the replay\'s result', async () => /2 stored/.test(await page.locator('#replay-result').textContent()));
    assert.deepEqual(query("SELECT event_id, kind FROM raw_events WHERE event_id LIKE 'fix-%' ORDER BY event_id"),
      [{ event_id: 'fix-1', kind: 'pickup' }, { event_id: 'fix-2', kind: 'pickup' }]);
    assert.deepEqual(query("SELECT reason FROM dead_letter WHERE source LIKE 'file:%'"), [{ reason: 'bad_json' }]);
    assert.equal(query('SELECT count(*) AS n FROM dead_letter')[0].n, 1 + pushed.dead_lettered);

    // Drain from the page: the job stops pulling, commits and ends DRAINED.
    await page.click('button[data-view="pipeline"]');
    await card.locator('button.drain').click();
    assert.equal(await job.child.exited, 0);
    assert.match(job.child.stderrText, /job DRAINED/);
    await until('DRAINED on the page', async () => (await card.locator('.state').textContent()) === 'DRAINED');

    // A console opened after the job ended shows it with its last counts, not zeros, and the
    // jobs of another warehouse only behind the toggle; on an empty warehouse, how to load data.
    const other = path.join(work, 'other.db');
    await start(['ingest', '--push-listen', '127.0.0.1:0', '--warehouse', `sqlite:${other}`], /push requests at/);
    const later = await start(['console', '--warehouse', warehouse, '--listen', '127.0.0.1:0'], /at (http:\/\/[\d.:]+\/)/);
    const second = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    second.on('pageerror', (error) => errors.push(String(error)));
    await second.goto(later.match[1]);
    await until('the ended job', async () => (await second.locator('.job .state').allTextContents()).join() === 'DRAINED');
    const ended = await second.evaluate(() => window.bikestreamConsole.replies.jobs.jobs.find((j) => j.this_warehouse));
    for (const name of ['received', 'stored', 'duplicates', 'dead_lettered']) assert.equal(ended[name], pushed[name], name);
    assert.match(await second.locator('.job .plot').textContent(), /the job ended before this console watched it/);
    assert.equal(await second.locator('#other-jobs-count').textContent(), '1');
    await second.check('#other-jobs');
    await until('the other warehouse\'s job', async () => (await second.locator('.job').count()) === 2);
    assert.match(await second.locator('.job').nth(0).locator('.summary').textContent(), /another warehouse/);  // Running first.
    run('setup', '--warehouse', `sqlite:${path.join(work, 'empty.db')}`);
    const empty = await start(['console', '--warehouse', `sqlite:${path.join(work, 'empty.db')}`, '--listen', '127.0.0.1:0'],
      /at (http:\/\/[\d.:]+\/)/);
    await second.goto(empty.match[1]);
    await second.click('button[data-view="stations"]');
    await until('how to load data', async () => second.locator('#empty-warehouse').isVisible());
    assert.match(await second.locator('#empty-warehouse').textContent(), /holds no events yet[\s\S]*bikestream gbfs FEED/);
    await second.click('button[data-view="dead-letters"]');
    await until('no dead letters', async () => /no dead letters in the last day/.test(await second.locator('#dead-letter-plot').textContent()));
    await second.click('button[data-view="features"]');

    assert.deepEqual(errors, [], 'the page logged errors');
    assert.deepEqual(elsewhere, [], 'the page asked for something not on the console');
  } finally {
    await browser.close();
  }
}

try {
  await main();
  console.log('console in chromium: every check passed');
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
