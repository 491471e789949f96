// The live dashboard: scrapes /_local/metrics every second and plots the
// last five minutes. Rates and percentiles come from the difference between
// two scrapes, as Prometheus's rate() and histogram_quantile() would.

const WINDOW = 300; // points kept (one per second)
const charts = [
  { id: "rate", title: "API requests per second", series: ["requests/s", "5xx/s"], colours: ["#0b57d0", "#b3261e"] },
  { id: "latency", title: "API latency (ms)", series: ["p50", "p99"], colours: ["#146c2e", "#b35c00"] },
  { id: "errors", title: "API error rate (%)", series: ["5xx %", "4xx %"], colours: ["#b3261e", "#7a5af8"] },
  { id: "hits", title: "Edge hit rate (%)", series: ["hit %"], colours: ["#0b57d0"] },
  { id: "queue", title: "Photo queue", series: ["waiting", "workers busy"], colours: ["#b35c00", "#146c2e"] },
  { id: "dau", title: "Daily active users (estimate)", series: ["users today"], colours: ["#7a5af8"] },
];

/** Prometheus text → [{name, labels, value}]. */
function parse(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

const sum = (samples, name, keep = () => true) =>
  samples.filter((s) => s.name === name && keep(s.labels)).reduce((total, s) => total + s.value, 0);

/** Cumulative bucket counts by upper bound, summed over every route. */
function buckets(samples) {
  const byBound = new Map();
  for (const s of samples) {
    if (s.name !== "http_request_duration_seconds_bucket") continue;
    const bound = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byBound.set(bound, (byBound.get(bound) || 0) + s.value);
  }
  return [...byBound].sort((a, b) => a[0] - b[0]);
}

/** The q-quantile of the requests between two scrapes, interpolated in its bucket. */
function quantile(q, before, after) {
  const old = new Map(before);
  const counts = after.map(([bound, count]) => [bound, count - (old.get(bound) || 0)]);
  const total = counts.length ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0, below = 0;
  for (const [bound, count] of counts) {
    if (count >= rank) {
      if (bound === Infinity) return lower;
      return lower + ((bound - lower) * (rank - below)) / Math.max(count - below, 1);
    }
    lower = bound;
    below = count;
  }
  return lower;
}

const data = Object.fromEntries(charts.map((c) => [c.id, [[], ...c.series.map(() => [])]]));
const plots = {};

function makeCharts() {
  const box = document.getElementById("charts");
  for (const chart of charts) {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = chart.title;
    figure.append(caption);
    box.append(figure);
    plots[chart.id] = new uPlot(
      {
        width: Math.max(380, Math.min(box.clientWidth, 620) - 24),
        height: 200,
        series: [{}, ...chart.series.map((label, i) => ({ label, stroke: chart.colours[i], width: 2 }))],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
      },
      data[chart.id],
      figure,
    );
  }
}

function push(id, time, values) {
  const series = data[id];
  series[0].push(time);
  values.forEach((value, i) => series[i + 1].push(value));
  if (series[0].length > WINDOW) series.forEach((s) => s.shift());
  plots[id].setData(series);
}

let previous = null;

async function tick() {
  let samples;
  try {
    samples = parse(await (await fetch("/_local/metrics", { cache: "no-store" })).text());
  } catch (error) {
    document.getElementById("now").textContent = `The stack did not answer: ${error.message}`;
    return;
  }
  const now = Date.now() / 1000;
  const current = {
    time: now,
    requests: sum(samples, "http_request_duration_seconds_count"),
    errors5: sum(samples, "http_request_duration_seconds_count", (l) => (l.status || "").startsWith("5")),
    errors4: sum(samples, "http_request_duration_seconds_count", (l) => (l.status || "").startsWith("4")),
    hits: sum(samples, "edge_responses_total", (l) => l.cache === "HIT"),
    answers: sum(samples, "edge_responses_total"),
    buckets: buckets(samples),
    waiting: sum(samples, "photo_queue_backlog"),
    busy: sum(samples, "photo_workers_busy"),
    users: sum(samples, "daily_active_users"),
  };
  if (previous) {
    const seconds = Math.max(current.time - previous.time, 0.001);
    const requests = current.requests - previous.requests;
    const answers = current.answers - previous.answers;
    const rate = requests / seconds;
    const p50 = quantile(0.5, previous.buckets, current.buckets);
    const p99 = quantile(0.99, previous.buckets, current.buckets);
    const percent = (part) => (requests > 0 ? (100 * part) / requests : 0);
    const hitRate = answers > 0 ? (100 * (current.hits - previous.hits)) / answers : null;
    push("rate", now, [rate, (current.errors5 - previous.errors5) / seconds]);
    push("latency", now, [p50 === null ? null : p50 * 1000, p99 === null ? null : p99 * 1000]);
    push("errors", now, [percent(current.errors5 - previous.errors5), percent(current.errors4 - previous.errors4)]);
    push("hits", now, [hitRate]);
    push("queue", now, [current.waiting, current.busy]);
    push("dau", now, [current.users]);
    document.getElementById("now").textContent =
      `${rate.toFixed(0)} API requests/s, p99 ${p99 === null ? "–" : (p99 * 1000).toFixed(1)} ms, ` +
      `edge hit rate ${hitRate === null ? "–" : hitRate.toFixed(1) + " %"} (${(answers / seconds).toFixed(0)} answers/s), ` +
      `${current.waiting} photo jobs waiting, ${current.users} users today`;
    document.body.dataset.points = String(data.rate[0].length);
  }
  previous = current;
}

makeCharts();
tick();
setInterval(tick, 1000);
