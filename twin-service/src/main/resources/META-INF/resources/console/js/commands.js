// Commands of one twin, or of all the user's twins filtered by twin and status: the recent ones with their lifecycle, kept live by command-service's
// subscription (QUEUED → SENT → DELIVERED → SUCCEEDED/FAILED/TIMED_OUT/EXPIRED); operators send one
// (now or never with a timeout, or queued for an offline device with a TTL) and cancel a waiting one.
import { call, Problem } from "./api.js";
import { h, problemBox } from "./dom.js";
import { subscribe } from "./live.js";
import { user } from "./auth.js";

const ENDS_OK = new Set(["SUCCEEDED"]);
const ENDS_BAD = new Set(["FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED", "REJECTED"]);
const CANCELLABLE = new Set(["QUEUED", "SENT"]);
/** Where a status stands in a command's life: steps heard out of order are shown in it, and an end is final. */
const RANK = { QUEUED: 0, SENT: 1, DELIVERED: 2 };
const rank = (status) => RANK[status] ?? 3;

function parsePayload(text) {
  if (!text.trim()) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text; // sent as text/plain
  }
}

/** The commands of one twin (with a send form for operators), or, without a thing id, of all the user's twins. */
export function commandPanel(thingId) {
  const me = user();
  const filter = { thingId: thingId || "", status: "" };
  const commands = new Map(); // id -> {subject, status, steps: [status], response}
  const messages = h("div", { "aria-live": "polite" });
  const list = h("div", { id: "command-list" });
  const panel = h("section", { "aria-labelledby": "commands-title" }, h("h2", { id: "commands-title" }, "Commands"));

  if (!thingId) {
    const thing = h("input", { name: "thing", placeholder: "tenant:device", "aria-label": "Twin" });
    const status = h("select", { name: "status", "aria-label": "Status" }, h("option", { value: "" }, "any status"),
      ["QUEUED", "SENT", "DELIVERED", "SUCCEEDED", "FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED"]
        .map((st) => h("option", { value: st }, st)));
    panel.append(h("form", { class: "panel row", id: "command-filter", onsubmit: (e) => {
      e.preventDefault();
      filter.thingId = thing.value.trim();
      filter.status = status.value;
      commands.clear();
      load();
    } }, h("label", {}, "Twin", thing), h("label", {}, "Status", status), h("button", { type: "submit" }, "Filter")));
  }
  if (me.mayOperate && thingId) {
    const subject = h("input", { name: "subject", required: true, placeholder: "switch", "aria-label": "Subject" });
    const payload = h("textarea", { name: "payload", rows: 2, placeholder: '{"on": true}', "aria-label": "Payload (JSON or text)" });
    const mode = h("select", { name: "mode", "aria-label": "Delivery" },
      h("option", { value: "now" }, "now or never"), h("option", { value: "queued" }, "queue while offline"));
    const wait = h("input", { name: "wait", value: "10s", size: 5, "aria-label": "Answer timeout" });
    const ttl = h("input", { name: "ttl", value: "1h", size: 5, "aria-label": "Time to live" });
    panel.append(h("form", { class: "panel", id: "command-form", onsubmit: async (e) => {
      e.preventDefault();
      const body = { thingId, subject: subject.value.trim(), timeout: wait.value.trim(), ttl: mode.value === "now" ? "0" : ttl.value.trim() };
      const value = parsePayload(payload.value);
      if (value !== undefined) {
        body.payload = value;
      }
      try {
        const { body: sent } = await call("commands", "POST", "/api/commands", { body });
        remember({ id: sent.id, subject: body.subject, status: sent.status, history: [{ status: sent.status }] });
        messages.replaceChildren(h("p", { class: "muted" }, `Sent ${body.subject} (${sent.id}).`));
      } catch (err) {
        messages.replaceChildren(problemBox(err));
      }
    } }, h("div", { class: "row" }, h("label", {}, "Subject", subject), h("label", {}, "Delivery", mode),
      h("label", {}, "Answer timeout", wait), h("label", {}, "TTL (queued)", ttl)),
    h("label", {}, "Payload", payload), h("div", { class: "row" }, h("button", { type: "submit" }, "Send command"))));
  }
  panel.append(messages, h("div", { class: "panel" }, list));

  function remember(c) {
    if ((filter.thingId && c.thingId && c.thingId !== filter.thingId) || (filter.status && !commands.has(c.id)
        && c.status !== filter.status)) {
      return;
    }
    const known = commands.get(c.id) || { id: c.id, steps: [] };
    known.thingId = c.thingId || known.thingId;
    known.subject = c.subject || known.subject;
    if (c.status && (!known.status || rank(c.status) >= rank(known.status))) {
      known.status = c.status;
    }
    known.createdAt = c.createdAt || known.createdAt;
    for (const step of c.history || []) {
      if (!known.steps.includes(step.status)) {
        known.steps.push(step.status);
      }
    }
    known.steps.sort((a, b) => rank(a) - rank(b));
    if (c.response) {
      known.response = c.response;
    }
    commands.set(c.id, known);
    render();
  }

  function render() {
    const rows = [...commands.values()].sort((a, b) => String(b.createdAt || "~").localeCompare(String(a.createdAt || "~")))
      .slice(0, 20).map((c) => h("tr", { "data-command": c.id, "data-status": c.status },
        h("td", { class: "value hide-narrow" }, c.id.slice(0, 8)),
        thingId ? null : h("td", {}, h("a", { href: `#/things/${encodeURIComponent(c.thingId || "")}` }, c.thingId || "")),
        h("td", {}, c.subject || ""),
        h("td", {}, h("ol", { class: "lifecycle", "aria-label": "Lifecycle" }, c.steps.map((s) =>
          h("li", { class: ENDS_OK.has(s) ? "end-ok" : ENDS_BAD.has(s) ? "end-bad" : "" }, s)))),
        h("td", { class: "value" }, c.response ? `${c.response.status ?? ""} ${c.response.payload ?? ""}` : ""),
        h("td", {}, me.mayOperate && CANCELLABLE.has(c.status)
          ? h("button", { class: "secondary", onclick: () => cancel(c.id) }, "Cancel") : "")));
    list.replaceChildren(rows.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", { class: "hide-narrow" }, "Id"),
      thingId ? null : h("th", {}, "Twin"), h("th", {}, "Subject"), h("th", {}, "Lifecycle"), h("th", {}, "Answer"), h("th", {}, ""))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No commands yet."));
  }

  async function cancel(id) {
    try {
      const { body } = await call("commands", "DELETE", `/api/commands/${encodeURIComponent(id)}`);
      remember(body);
    } catch (e) {
      messages.replaceChildren(problemBox(e));
    }
  }

  async function load() {
    try {
      const query = new URLSearchParams({ limit: "20" });
      if (filter.thingId) {
        query.set("thingId", filter.thingId);
      }
      if (filter.status) {
        query.set("status", filter.status);
      }
      const { body } = await call("commands", "GET", `/api/commands?${query}`);
      (body.items || []).forEach(remember);
      render();
    } catch (e) {
      list.replaceChildren(problemBox(e instanceof Problem ? e : { title: "Commands unavailable", detail: String(e) }));
    }
  }

  const close = subscribe("commands", `subscription($thingId: String) { commandStatusChanged(thingId: $thingId) {
      commandId thingId status statusCode payload at } }`, { thingId: thingId || null }, {
    next: (data) => {
      const s = data.commandStatusChanged;
      if (!commands.has(s.commandId)) {
        // A command sent elsewhere (another user, the desired-state push): its subject and steps so far.
        call("commands", "GET", `/api/commands/${encodeURIComponent(s.commandId)}`).then(({ body }) => remember(body),
          () => {});
      }
      remember({ id: s.commandId, thingId: s.thingId, status: s.status, createdAt: s.status === "QUEUED" ? s.at : undefined, history: [{ status: s.status }],
        response: s.statusCode != null || s.payload != null ? { status: s.statusCode, payload: s.payload } : undefined });
    },
    reopened: () => load(),
  });
  load();
  return { panel, close };
}
