// A value's history as a chart, from the service's per-interval summary (count, min, max, mean), so
// a week of readings reaches the page as at most a few hundred points; and the whole twin as it was
// at a chosen time.
import { call, graphql, segments } from "./api.js";
import { h, problemBox } from "./dom.js";

const RANGES = [["1h", 3600e3], ["24h", 86400e3], ["7d", 7 * 86400e3]];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([k, v]) => el.setAttribute(k, v));
  children.forEach((c) => el.append(c instanceof Node ? c : document.createTextNode(String(c))));
  return el;
}

/** The chart of one path of a twin (a path like features/telemetry/properties/temperature). */
export function historyChart(thingId, path) {
  const out = h("div", { class: "panel", id: "history-chart", "data-path": path });
  const body = h("div", {});
  const range = h("select", { "aria-label": "Time range", onchange: () => draw() },
    RANGES.map(([label]) => h("option", { value: label }, `last ${label}`)));
  out.append(h("div", { class: "row" }, h("strong", {}, `History of ${path}`), range), body);

  async function draw() {
    const span = RANGES.find(([label]) => label === range.value)[1];
    const to = new Date();
    const from = new Date(to.getTime() - span);
    const query = new URLSearchParams({ path, from: from.toISOString(), to: to.toISOString(),
      interval: `${Math.max(1, Math.round(span / 120 / 1000))}s` });
    body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const { body: summary } = await call("twins", "GET", `/api/2/things/${segments(thingId)}/history/summary?${query}`);
      body.replaceChildren(chart(summary, from.getTime(), to.getTime()));
    } catch (e) {
      body.replaceChildren(problemBox(e));
    }
  }

  draw();
  return out;
}

function chart(summary, from, to) {
  const buckets = summary.buckets;
  if (buckets.length === 0) {
    return h("p", { class: "muted", "data-role": "no-history" }, "No numeric values in this range.");
  }
  const [width, height, pad] = [800, 220, 36];
  const low = Math.min(...buckets.map((b) => b.min));
  const high = Math.max(...buckets.map((b) => b.max));
  const spread = high - low || 1;
  const x = (t) => pad + ((t - from) / (to - from)) * (width - 2 * pad);
  const y = (v) => height - pad - ((v - low) / spread) * (height - 2 * pad);
  const points = buckets.map((b) => [x(Date.parse(b.start)), b]);
  const band = points.map(([px, b]) => `${px},${y(b.max)}`).concat(points.slice().reverse()
    .map(([px, b]) => `${px},${y(b.min)}`)).join(" ");
  const line = points.map(([px, b]) => `${px},${y(b.avg)}`).join(" ");
  return h("figure", { "data-role": "chart", "data-buckets": String(buckets.length) },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
      "aria-label": `${summary.path}: ${buckets.length} intervals, from ${low} to ${high}` },
    svg("polygon", { points: band, fill: "#dbe8ff", stroke: "none" }),
    svg("polyline", { points: line, fill: "none", stroke: "#2457c5", "stroke-width": 2 }),
    ...points.map(([px, b]) => svg("circle", { cx: px, cy: y(b.avg), r: 3, fill: "#2457c5" },
      svg("title", {}, `${new Date(b.start).toLocaleString()}: avg ${b.avg.toFixed(2)}, min ${b.min}, max ${b.max}, ${b.count} values`))),
    svg("text", { x: 2, y: pad - 6, "font-size": 12 }, String(high)),
    svg("text", { x: 2, y: height - pad + 14, "font-size": 12 }, String(low)),
    svg("text", { x: pad, y: height - 4, "font-size": 12 }, new Date(from).toLocaleString()),
    svg("text", { x: width - pad, y: height - 4, "font-size": 12, "text-anchor": "end" }, new Date(to).toLocaleString())),
  h("figcaption", { class: "muted" }, `Mean per ${Number.parseInt(summary.interval, 10) / 1000}s with its minimum and maximum band.`));
}

/** The twin as it was at a chosen time, read-only. */
export function asItWas(thingId) {
  const out = h("div", { class: "panel", id: "as-it-was" });
  const when = h("input", { type: "datetime-local", step: 1, "aria-label": "Time" });
  const result = h("div", {});
  out.append(h("form", { class: "row", onsubmit: async (e) => {
    e.preventDefault();
    if (!when.value) {
      return;
    }
    try {
      const data = await graphql("twins", "query($id: String!, $at: String) { twinAt(id: $id, at: $at) }",
        { id: thingId, at: new Date(when.value).toISOString() });
      result.replaceChildren(data.twinAt
        ? h("pre", { class: "value", "data-role": "twin-at" }, JSON.stringify(data.twinAt, null, 2))
        : h("p", { class: "muted" }, "The twin did not exist then, or that history has passed its retention."));
    } catch (err) {
      result.replaceChildren(problemBox(err));
    }
  } }, h("strong", {}, "The twin as it was at"), when, h("button", { type: "submit", class: "secondary" }, "Show")), result);
  return out;
}
