// The bikestream console page: reads /api/ (docs/console.md) every few seconds and draws it.
// Plain JavaScript; uPlot (from npm, embedded in the binary) draws the time series.
'use strict';

const REFRESH_MS = 5000;
const BUCKET_SECONDS = 900;
const SERIES_COLOURS = ['#3b6fd4', '#d4493b', '#2f9e6b', '#c28a12', '#8a4fc7', '#1f9bb3', '#b84a8a', '#6b7a8f'];

// For the browser tests: the plots by name (each a uPlot, whose data[0] holds its x values) and
// the latest reply of each GET, so that a test can compare what was drawn with what was sent.
const plots = {};
const replies = {};
// Each plot's x range, [from, to] in seconds, read by its scale at every redraw.
const ranges = {};
window.bikestreamConsole = { plots, replies };

const state = {
  view: 'pipeline',
  station: null,
  summary: null,
  stations: [],
  token: sessionStorage.getItem('bikestream-token') || '',
  refreshing: false,
  refreshAgain: false,  // Asked for while a refresh ran: run once more when it ends.
};

// A token given as #token=… is kept for the session and taken out of the address bar.
function takeTokenFromAddress() {
  const match = location.hash.match(/token=([^&]+)/);
  if (!match) return;
  state.token = decodeURIComponent(match[1]);
  sessionStorage.setItem('bikestream-token', state.token);
  history.replaceState(null, '', location.pathname);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', params = {} } = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined));
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  // The console server takes actions only with this header: another origin cannot send it.
  if (method === 'POST') headers['X-Bikestream-Console'] = '1';
  const search = query.toString();
  const response = await fetch(`/api/${path}${search ? `?${search}` : ''}`, { method, headers });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new ApiError(response.status, body.error || `${response.status}`);
  if (method === 'GET') replies[path] = body;
  return body;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  return fill(node, ...children);
}

// Replaces `node`'s children with `children`, leaving out the null ones.
function fill(node, ...children) {
  node.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function number(value, digits = 0) {
  if (value === null || value === undefined) return '–';
  return Number(value).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function numberCell(value, digits = 0) {
  return element('td', { class: 'number' }, number(value, digits));
}

function setStatus(text, isError = false) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function stationName(id) {
  const station = state.stations.find((s) => s.station_id === id);
  return station && station.name ? `${station.name} (${id})` : id;
}

// The period the selects ask for: the chosen number of days up to `end` (seconds).
function period(end) {
  const days = Number(document.getElementById('period').value);
  const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return { from: iso(end - days * 86400), to: iso(end) };
}

// Up to the end of the latest event's 15-minute bucket (buckets are [start, start + 15 min)).
function eventPeriod() {
  const latest = state.summary.latest_event ? Date.parse(state.summary.latest_event) / 1000 : Date.now() / 1000;
  return period((Math.floor(latest / BUCKET_SECONDS) + 1) * BUCKET_SECONDS);
}

// Up to the latest tick stored, which may come after the latest event (both ends count).
function featurePeriod() {
  return period(state.summary.latest_features ? Date.parse(state.summary.latest_features) / 1000 : Date.now() / 1000);
}

// Seconds since the epoch of an RFC 3339 time.
function seconds(text) {
  return Date.parse(text) / 1000;
}

// Draws `data` ([x, ...ys]) in the plot `name`; a plot whose series changed is made anew.
// `range`: the x axis's [from, to] in seconds, the period shown, so that a plot of one point
// spans the period and not years. Without points, the plot gives way to `empty`.
function draw(name, containerId, series, data, { points = false, range = null, empty = 'no data yet' } = {}) {
  const container = document.getElementById(containerId);
  ranges[name] = range;
  if (!data[0].length) {
    if (plots[name]) plots[name].destroy();
    delete plots[name];
    container.replaceChildren(element('p', { class: 'hint no-data' }, empty));
    return;
  }
  const labels = series.map((s) => s.label).join('|');
  let plot = plots[name];
  if (plot && plot.bikestreamLabels !== labels) {
    plot.destroy();
    plot = null;
  }
  if (!plot) {
    const options = {
      width: Math.max(container.clientWidth - 2, 320),
      height: 300,
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: SERIES_COLOURS[i % SERIES_COLOURS.length],
        width: 1.5,
        spanGaps: false,
        points: { show: points, size: 4 },
      }))],
      axes: [{}, { size: 60 }],
      // The period shown; without one, one point alone gets an hour around it.
      scales: {
        x: {
          time: true,
          range: (u, min, max) => ranges[name] || (min === max ? [min - 1800, max + 1800] : [min, max]),
        },
      },
      // Event times are UTC (docs/design.md), and so is every time the page prints.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    };
    container.replaceChildren();
    plot = new uPlot(options, data, container);
    plot.bikestreamLabels = labels;
    plots[name] = plot;
  } else {
    plot.setData(data);
  }
}

// --- Pipeline -----------------------------------------------------------------------------

// Running jobs first, then those that ended, each newest first.
function jobOrder(a, b) {
  if (!a.ended !== !b.ended) return a.ended ? 1 : -1;
  return (b.ended || b.started).localeCompare(a.ended || a.started);
}

async function refreshPipeline() {
  const { jobs: all } = await api('jobs');
  const others = all.filter((job) => !job.this_warehouse).length;
  const showOthers = document.getElementById('other-jobs').checked;
  const jobs = all.filter((job) => job.this_warehouse || showOthers).sort(jobOrder);
  document.getElementById('other-jobs-label').hidden = others === 0;
  document.getElementById('other-jobs-count').textContent = others;
  document.getElementById('no-jobs').hidden = jobs.length > 0;
  const list = document.getElementById('jobs');
  const listed = new Set(jobs.map((job) => `job-${job.id}`));
  for (const card of [...list.children]) {
    if (listed.has(card.id)) continue;
    const plot = plots[`job:${card.dataset.job}`];
    if (plot) plot.destroy();
    delete plots[`job:${card.dataset.job}`];
    card.remove();
  }
  for (const job of jobs) {
    const id = `job-${job.id}`;
    let card = document.getElementById(id);
    if (!card) {
      card = element('div', { class: 'job', id, 'data-job': job.id },
        element('h3', {}, job.id),
        element('div', { class: 'summary' }),
        element('div', { class: 'counts' }),
        element('div', {},
          element('button', { class: 'action drain', onclick: () => act(job.id, 'drain') }, 'Drain'),
          element('button', { class: 'action cancel', onclick: () => act(job.id, 'cancel') }, 'Cancel')),
        element('div', { class: 'plot', id: `${id}-plot` }));
    }
    list.append(card);  // In order: a card already listed moves to its place.
    const running = job.state === 'RUNNING' || job.state === 'DRAINING';
    fill(card.querySelector('.summary'),
      element('span', { class: 'state' }, job.state), ` · ${job.source} → ${job.warehouse}${job.this_warehouse ? '' : ' (another warehouse)'} · started ${job.started}`,
      job.ended ? ` · ended ${job.ended}` : null,
      job.problem ? element('div', { class: 'problem' }, job.problem) : null);
    const latency = job.latency;
    fill(card.querySelector('.counts'),
      ...[['received', job.received], ['stored', job.stored], ['duplicates', job.duplicates],
        ['dead-lettered', job.dead_lettered], ['in flight', job.in_flight]]
        .map(([label, value]) => element('span', {}, `${label} `, element('b', {}, number(value)))),
      element('span', {}, 'publish→commit p50 ', element('b', {}, latency.p50_seconds === null ? '–' : `${number(latency.p50_seconds, 3)} s`),
        ' p99 ', element('b', {}, latency.p99_seconds === null ? '–' : `${number(latency.p99_seconds, 3)} s`),
        latency.since_start ? ' (since the job started)' : ' (the last minutes)'));
    card.querySelector('.drain').disabled = job.state !== 'RUNNING';
    card.querySelector('.cancel').disabled = !running;
    const r = job.rates;
    draw(`job:${job.id}`, `${id}-plot`,
      [{ label: 'received/s' }, { label: 'stored/s' }, { label: 'duplicates/s' }, { label: 'dead-lettered/s' }],
      [r.t, r.received, r.stored, r.duplicates, r.dead_lettered],
      { empty: job.ended ? 'no rates: the job ended before this console watched it' : 'no data yet: the first rates come within seconds' });
  }
}

async function act(jobId, action) {
  try {
    const reply = await api(`jobs/${action}`, { method: 'POST', params: { job: jobId } });
    setStatus(`${action}: job ${jobId} is ${reply.state || 'asked'}`);
  } catch (error) {
    setStatus(`${action} failed: ${error.message}`, true);
  }
  await refreshPipeline();
}

// --- Stations ------------------------------------------------------------------------------

async function refreshStationList() {
  const body = await api('stations');
  state.stations = body.stations;
  const select = document.getElementById('station');
  if (!state.station && state.stations.length) {
    // The busiest of the latest week first: its plots have something to show.
    state.station = [...state.stations].sort((a, b) => b.events_in_week - a.events_in_week)[0].station_id;
  }
  const options = state.stations.map((s) => stationName(s.station_id));
  if ([...select.options].map((o) => o.textContent).join('\n') !== options.join('\n')) {
    select.replaceChildren(...state.stations.map((s, i) => element('option', { value: s.station_id }, options[i])));
  }
  select.value = state.station || '';
  for (const name of document.querySelectorAll('.station-name')) name.textContent = state.station ? stationName(state.station) : '(no station yet)';
  document.getElementById('features-as-of').textContent = body.features_as_of ? `(as_of ${body.features_as_of})` : '(no features stored yet)';
  drawStationTable(body);
  drawMap();
}

function drawStationTable(body) {
  const columns = [...new Set(body.stations.flatMap((s) => Object.keys(s.features)))].sort();
  const table = document.getElementById('station-table');
  table.tHead.replaceChildren(element('tr', {}, element('th', {}, 'Station'), element('th', {}, 'Name'),
    element('th', {}, 'Events in week'), ...columns.map((c) => element('th', {}, c))));
  table.tBodies[0].replaceChildren(...body.stations.map((s) => {
    const row = element('tr', { 'data-station': s.station_id, onclick: () => chooseStation(s.station_id) },
      element('td', {}, s.station_id), element('td', {}, s.name || ''), numberCell(s.events_in_week),
      ...columns.map((c) => numberCell(s.features[c], 2)));
    row.classList.toggle('selected', s.station_id === state.station);
    return row;
  }));
}

// The stations at their coordinates (an equirectangular projection, x scaled by the cosine of
// the latitude), each circle's area by its events in the latest week.
function drawMap() {
  const svg = document.getElementById('map');
  const placed = state.stations.filter((s) => typeof s.lat === 'number' && typeof s.lon === 'number' && (s.lat || s.lon));
  document.getElementById('no-map').hidden = placed.length > 0;
  svg.hidden = placed.length === 0;
  if (!placed.length) return;
  const lats = placed.map((s) => s.lat);
  const lons = placed.map((s) => s.lon);
  const scaleX = Math.cos(((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI / 180);
  const [west, east] = [Math.min(...lons) * scaleX, Math.max(...lons) * scaleX];
  const [south, north] = [Math.min(...lats), Math.max(...lats)];
  const pad = Math.max(east - west, north - south) * 0.05 || 0.01;
  svg.setAttribute('viewBox', `${west - pad} ${-north - pad} ${east - west + 2 * pad} ${north - south + 2 * pad}`);
  const most = Math.max(1, ...placed.map((s) => s.events_in_week));
  const unit = Math.max(east - west, north - south) / 90;
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren(...placed.map((s) => {
    const circle = document.createElementNS(ns, 'circle');
    circle.setAttribute('cx', s.lon * scaleX);
    circle.setAttribute('cy', -s.lat);
    circle.setAttribute('r', unit * (0.4 + 1.6 * Math.sqrt(s.events_in_week / most)));
    circle.setAttribute('data-station', s.station_id);
    circle.classList.toggle('selected', s.station_id === state.station);
    circle.addEventListener('click', () => chooseStation(s.station_id));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${stationName(s.station_id)}: ${s.events_in_week} events in the latest week`;
    circle.append(title);
    return circle;
  }));
}

const BUCKET_NAMES = { 900: '15 minutes', 3600: 'hour', 86400: 'day' };

// The bucket chosen, or by the period: 15 minutes for a day, an hour for a week (sparse real
// data reads as a barcode in 15-minute buckets over a week).
function activityBucket() {
  const chosen = document.getElementById('bucket').value;
  if (chosen !== 'auto') return Number(chosen);
  return Number(document.getElementById('period').value) <= 1 ? 900 : 3600;
}

async function refreshStations() {
  const empty = !state.summary.latest_event;
  document.getElementById('empty-warehouse').hidden = !empty;
  document.getElementById('station-views').hidden = empty;
  if (empty) {
    for (const name of document.querySelectorAll('.warehouse-url')) name.textContent = state.summary.warehouse;
    return;
  }
  await refreshStationList();
  const { from, to } = eventPeriod();
  const bucket = activityBucket();
  document.getElementById('bucket-name').textContent = BUCKET_NAMES[bucket];
  const [activity, busiest] = await Promise.all([
    state.station ? api('activity', { params: { station: state.station, from, to, bucket } }) : null,
    api('busiest', { params: { from, to, limit: 10 } }),
  ]);
  if (activity) {
    const b = activity.buckets;
    draw('activity', 'activity-plot', [{ label: 'pickups' }, { label: 'drop-offs' }],
      [b.map((x) => x.t), b.map((x) => x.pickups), b.map((x) => x.dropoffs)],
      // The first hour or day may begin before `from` (holding only its part from `from` on):
      // the axis starts with it.
      { range: [Math.min(b.length ? b[0].t : Infinity, seconds(activity.from)), seconds(activity.to)] });
  }
  document.querySelector('#busiest tbody').replaceChildren(...busiest.stations.map((s) =>
    element('tr', { 'data-station': s.station_id, onclick: () => chooseStation(s.station_id) },
      element('td', {}, stationName(s.station_id)), numberCell(s.pickups), numberCell(s.dropoffs), numberCell(s.events))));
}

// --- Features ------------------------------------------------------------------------------

async function refreshFeatures() {
  document.querySelector('#feature-set tbody').replaceChildren(...state.summary.feature_set.map((f) =>
    element('tr', {}, element('td', {}, f.column), element('td', {}, f.aggregate), element('td', {}, f.kind || 'all'),
      element('td', {}, f.window))));
  if (!state.station) return;
  const { from, to } = featurePeriod();
  const body = await api('features', { params: { station: state.station, from, to } });
  const columns = Object.keys(body.series).sort();
  draw('features', 'features-plot', columns.map((c) => ({ label: c })), [body.as_of, ...columns.map((c) => body.series[c])],
    { points: true, empty: 'no features stored in the period: bikestream features computes them' });
}

// --- Dead letters --------------------------------------------------------------------------

async function refreshDeadLetters() {
  const body = await api('dead-letters', { params: { bucket: 60, limit: 20 } });
  const reasons = Object.keys(body.by_reason).sort();
  const times = [...new Set(body.counts.map((c) => c.t))].sort((a, b) => a - b);
  const column = new Map(times.map((t, i) => [t, i]));
  const series = reasons.map(() => times.map(() => 0));
  for (const c of body.counts) series[reasons.indexOf(c.reason)][column.get(c.t)] = c.count;
  draw('dead-letters', 'dead-letter-plot', reasons.map((r) => ({ label: r })), [times, ...series],
    { points: true, range: [seconds(body.from), seconds(body.to)], empty: 'no dead letters in the last day' });
  document.getElementById('dead-letter-totals').textContent = reasons.length
    ? reasons.map((r) => `${r}: ${number(body.by_reason[r])}`).join(' · ')
    : 'No dead letters.';
  document.querySelector('#samples tbody').replaceChildren(...body.samples.map((d) =>
    element('tr', {}, numberCell(d.id), element('td', {}, d.first_seen), element('td', {}, d.reason),
      element('td', {}, d.error), element('td', { class: 'payload' }, d.payload + (d.payload_truncated ? ' …' : '')))));
}

async function replay() {
  const button = document.getElementById('replay');
  button.disabled = true;
  try {
    const result = await api('dead-letters/replay', { method: 'POST' });
    document.getElementById('replay-result').textContent =
      `examined ${number(result.examined)}: ${number(result.stored)} stored, ${number(result.duplicates)} already stored, ` +
      `${number(result.still_invalid)} still invalid`;
  } catch (error) {
    document.getElementById('replay-result').textContent = `replay failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
  await refreshDeadLetters();
}

// --- The page ------------------------------------------------------------------------------

const views = {
  pipeline: refreshPipeline,
  stations: refreshStations,
  features: refreshFeatures,
  'dead-letters': refreshDeadLetters,
};

async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  try {
    state.summary = await api('summary');
    // The station choice is in the header of every view.
    if (!state.stations.length) await refreshStationList();
    document.getElementById('warehouse').textContent =
      `${state.summary.warehouse} · latest event ${state.summary.latest_event || '(none yet)'} · latest features ${state.summary.latest_features || '(none yet)'}`;
    await views[state.view]();
    setStatus(`refreshed ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error.status === 401) document.getElementById('token-form').hidden = false;
    setStatus(error.message, true);
  } finally {
    state.refreshing = false;
  }
  if (state.refreshAgain) {
    state.refreshAgain = false;
    refresh();
  }
}

function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== view;
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-selected', tab.dataset.view === view);
  refresh();
}

function chooseStation(id) {
  state.station = id;
  refresh();
}

function start() {
  takeTokenFromAddress();
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => show(tab.dataset.view));
  document.getElementById('station').addEventListener('change', (e) => chooseStation(e.target.value));
  document.getElementById('period').addEventListener('change', refresh);
  document.getElementById('bucket').addEventListener('change', refresh);
  document.getElementById('other-jobs').addEventListener('change', refresh);
  document.getElementById('replay').addEventListener('click', replay);
  document.getElementById('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = document.getElementById('token').value;
    sessionStorage.setItem('bikestream-token', state.token);
    document.getElementById('token-form').hidden = true;
    refresh();
  });
  show('pipeline');
  setInterval(refresh, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
