// The fleet: the twins of the user's tenants, searched by free text (ids and names) and RQL, paged
// by the search's cursor, each twin's connection status kept live by a subscription on the page's ids.
import { call, Problem } from "./api.js";
import { h, problemBox, leaves, show } from "./dom.js";
import { subscribe } from "./live.js";

const PAGE = 20;

function quoted(text) {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The filter the search runs: the RQL as typed, narrowed by the free text if any. */
function filterOf(text, rql) {
  const parts = [];
  if (text.trim()) {
    const pattern = quoted(`*${text.trim()}*`);
    parts.push(`or(ilike(thingId,${pattern}),ilike(attributes/name,${pattern}))`);
  }
  if (rql.trim()) {
    parts.push(rql.trim());
  }
  return parts.length === 0 ? "" : parts.length === 1 ? parts[0] : `and(${parts.join(",")})`;
}

function statusOf(twin) {
  return twin.features?.connectivity?.properties?.status || "unknown";
}

export function fleet(main, query) {
  const state = { text: query.get("q") || "", rql: query.get("filter") || "", cursors: [null], page: 0 };
  let unsubscribe = () => {};
  const text = h("input", { id: "search-text", type: "search", value: state.text, placeholder: "id or name contains…", "aria-label": "Free text" });
  const rql = h("input", { id: "search-rql", value: state.rql, placeholder: 'eq(attributes/site,"berlin")', "aria-label": "RQL filter", spellcheck: "false" });
  const results = h("div", { id: "fleet-results", "aria-live": "polite" });
  const form = h("form", { class: "search panel", role: "search", onsubmit: (e) => { e.preventDefault(); state.cursors = [null]; state.page = 0; load(); } },
    h("label", {}, "Search", text),
    h("label", {}, "RQL filter", rql),
    h("button", { type: "submit" }, "Search"));
  main.replaceChildren(h("h1", {}, "Fleet"), form, results);

  async function load() {
    unsubscribe();
    state.text = text.value;
    state.rql = rql.value;
    const params = new URLSearchParams();
    const filter = filterOf(state.text, state.rql);
    if (filter) {
      params.set("filter", filter);
    }
    const cursor = state.cursors[state.page];
    params.set("option", `size(${PAGE}),sort(+thingId)` + (cursor ? `,cursor(${cursor})` : ""));
    params.set("fields", "thingId,attributes,features/connectivity,_modified");
    results.replaceChildren(h("p", { class: "muted" }, "Searching…"));
    try {
      const { body } = await call("twins", "GET", `/api/2/search/things?${params}`);
      state.cursors[state.page + 1] = body.cursor || null;
      render(body.items || [], Boolean(body.cursor));
    } catch (e) {
      if (!(e instanceof Problem)) {
        throw e;
      }
      // The error is shown under the part the user typed: the RQL field, or the free text.
      const typed = state.rql.trim() && !state.text.trim() ? state.rql.trim() : filter;
      results.replaceChildren(problemBox(e, e.type.endsWith("invalid-filter") ? typed : undefined));
    }
  }

  function render(items, more) {
    if (items.length === 0) {
      results.replaceChildren(h("p", { class: "muted", "data-role": "empty" }, "No twins match."));
      return;
    }
    const rows = new Map();
    const body = h("tbody", {}, items.map((twin) => {
      const status = h("span", { class: `status ${statusOf(twin)}`, "data-role": "status" }, statusOf(twin));
      const row = h("tr", { "data-thing": twin.thingId },
        h("td", {}, h("a", { href: `#/things/${encodeURIComponent(twin.thingId)}` }, twin.thingId)),
        h("td", {}, status),
        h("td", { class: "hide-narrow value" }, leaves(twin.attributes).slice(0, 3).map(([k, v]) => `${k}=${show(v)}`).join("  ")),
        h("td", { class: "hide-narrow muted" }, twin._modified ? new Date(twin._modified).toLocaleString() : ""));
      rows.set(twin.thingId, { row, status });
      return row;
    }));
    const pager = h("div", { class: "pager" },
      h("button", { class: "secondary", disabled: state.page === 0, onclick: () => { state.page--; load(); } }, "Previous"),
      h("span", { class: "muted" }, `Page ${state.page + 1}`),
      h("button", { class: "secondary", disabled: !more, onclick: () => { state.page++; load(); } }, "Next"));
    results.replaceChildren(h("div", { class: "panel" }, h("table", { id: "fleet-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Twin"), h("th", {}, "Connection"), h("th", { class: "hide-narrow" }, "Attributes"),
        h("th", { class: "hide-narrow" }, "Modified"))), body), pager));
    unsubscribe = subscribe("twins", "subscription($ids: [String]) { twinChanged(ids: $ids) { thingId changes } }",
      { ids: [...rows.keys()] }, {
        next: (data) => {
          const change = data.twinChanged;
          const shown = rows.get(change.thingId);
          const status = change.changes["features/connectivity/properties/status"];
          if (shown && typeof status === "string") {
            shown.status.className = `status ${status}`;
            shown.status.textContent = status;
          }
          if (shown) {
            shown.row.classList.remove("flash");
            void shown.row.offsetWidth;
            shown.row.classList.add("flash");
          }
        },
        reopened: () => load(),
      });
  }

  load();
  return () => unsubscribe();
}
