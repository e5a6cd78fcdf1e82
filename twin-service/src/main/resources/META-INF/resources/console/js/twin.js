// One twin: attributes, and each feature's reported and desired properties side by side with the
// open delta marked, all kept live by a GraphQL subscription. Operators set desired values and
// admins attributes, each write conditional on the revision shown: a stale edit is refused by the
// service and shown here with the current state, the typed value kept.
import { graphql, Problem } from "./api.js";
import { h, problemBox, leaves, show, setPath } from "./dom.js";
import { subscribe, onLiveState } from "./live.js";
import { user } from "./auth.js";
import { commandPanel } from "./commands.js";
import { historyChart, asItWas } from "./history.js";

const TWIN = `query($id: String!) { twin(id: $id) { thingId revision modified attributes
  features { id properties desiredProperties delta } } }`;
const MERGE_DESIRED = `mutation($id: String!, $feature: String!, $properties: JSON!, $rev: BigInteger) {
  mergeDesiredProperties(thingId: $id, feature: $feature, properties: $properties, expectedRevision: $rev) { revision } }`;
const PUT_ATTRIBUTES = `mutation($id: String!, $attributes: JSON!, $rev: BigInteger) {
  putAttributes(thingId: $id, attributes: $attributes, expectedRevision: $rev) { revision } }`;

/** {a: {b: 1}} for path "a/b" and value 1: a merge patch that sets one leaf. */
function patchFor(path, value) {
  const patch = {};
  setPath(patch, path, value);
  return patch;
}

function parseValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text; // what is not JSON is meant as a string
  }
}

export function twinView(main, thingId) {
  const me = user();
  let twin = null;
  const messages = h("div", { id: "twin-messages", "aria-live": "polite" });
  const header = h("div", {});
  const attributes = h("section", { "aria-labelledby": "attributes-title" });
  const features = h("section", { "aria-labelledby": "features-title" });
  const live = h("span", { class: "badge", id: "live-state" }, "connecting…");
  const history = h("section", { "aria-label": "History" });
  const commands = commandPanel(thingId);
  main.replaceChildren(h("p", {}, h("a", { href: "#/things" }, "← Fleet")), h("h1", {}, thingId), header, messages,
    attributes, features, history, asItWas(thingId), commands.panel);

  function chart(path) {
    history.replaceChildren(h("h2", {}, "History"), historyChart(thingId, path));
    history.scrollIntoView({ block: "nearest" });
  }

  async function load() {
    try {
      const data = await graphql("twins", TWIN, { id: thingId });
      if (!data.twin) {
        main.replaceChildren(h("p", {}, h("a", { href: "#/things" }, "← Fleet")),
          problemBox({ title: "Not found", status: 404, detail: `No twin ${thingId} that you may read.` }));
        return false;
      }
      twin = data.twin;
      render();
      return true;
    } catch (e) {
      messages.replaceChildren(problemBox(e));
      return false;
    }
  }

  function say(node) {
    messages.replaceChildren(node);
  }

  async function write(query, variables, done) {
    try {
      await graphql("twins", query, { ...variables, id: thingId, rev: twin.revision });
      say(h("p", { class: "muted" }, "Saved."));
      done?.();
    } catch (e) {
      if (e instanceof Problem && e.status === 412) {
        await load();
        say(h("div", { class: "notice", role: "alert", "data-role": "stale" },
          `The twin changed since you looked (now revision ${twin.revision}); your edit was not applied. `
          + "Check the current values and apply it again."));
      } else {
        say(problemBox(e));
      }
    }
  }

  function render() {
    header.replaceChildren(h("p", { class: "row muted" }, `Revision ${twin.revision}`, " · ",
      twin.modified ? `modified ${new Date(twin.modified).toLocaleString()}` : "", " · ", live));
    renderAttributes();
    renderFeatures();
  }

  function renderAttributes() {
    const rows = leaves(twin.attributes).map(([path, value]) => {
      const cell = me.isAdmin ? editor(show(value), `Set attribute ${path}`, (text, input) => {
        const next = structuredClone(twin.attributes || {});
        setPath(next, path, parseValue(text));
        write(PUT_ATTRIBUTES, { attributes: next }, () => input.blur());
      }) : h("span", { class: "value" }, show(value));
      return h("tr", { "data-path": `attributes/${path}` }, h("td", { class: "value" }, path), h("td", {}, cell));
    });
    attributes.replaceChildren(h("h2", { id: "attributes-title" }, "Attributes"), h("div", { class: "panel" },
      rows.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Attribute"), h("th", {}, "Value"))),
        h("tbody", {}, rows)) : h("p", { class: "muted" }, "No attributes.")));
  }

  function renderFeatures() {
    const list = (twin.features || []).map((feature) => {
      // The connectivity feature is the platform's account of the connection, not something to steer.
      const steerable = me.mayOperate && feature.id !== "connectivity";
      const reported = new Map(leaves(feature.properties));
      const desired = new Map(leaves(feature.desiredProperties));
      const open = new Set(leaves(feature.delta).map(([p]) => p));
      const paths = [...new Set([...reported.keys(), ...desired.keys()])].sort();
      const rows = paths.map((path) => {
        const pending = open.has(path);
        const desiredCell = steerable
          ? editor(desired.has(path) ? show(desired.get(path)) : "", `Desired ${feature.id}/${path}`,
            (text) => write(MERGE_DESIRED, { feature: feature.id, properties: patchFor(path, parseValue(text)) }))
          : h("span", { class: "value" }, desired.has(path) ? show(desired.get(path)) : "");
        return h("tr", { class: pending ? "pending" : "", "data-path": `features/${feature.id}/${path}` },
          h("td", { class: "value" }, path),
          h("td", {}, h("span", { class: "value", "data-role": "reported" }, reported.has(path) ? show(reported.get(path)) : ""),
            typeof reported.get(path) === "number" ? h("button", { class: "secondary chart", "data-role": "chart",
              "aria-label": `History of ${feature.id}/${path}`, onclick: () => chart(`features/${feature.id}/properties/${path}`) }, "chart") : ""),
          h("td", { "data-role": "desired" }, desiredCell),
          h("td", {}, pending ? h("span", { class: "badge pending" }, "pending") : ""));
      });
      const adder = steerable ? h("form", { class: "row", "data-role": "add-desired", onsubmit: (e) => {
        e.preventDefault();
        const [path, value] = [e.target.elements.path.value.trim(), e.target.elements.value.value];
        if (path) {
          write(MERGE_DESIRED, { feature: feature.id, properties: patchFor(path, parseValue(value)) });
        }
      } }, h("input", { name: "path", placeholder: "property path", "aria-label": `New desired property of ${feature.id}` }),
        h("input", { name: "value", placeholder: "value (JSON)", "aria-label": "Its value" }),
        h("button", { type: "submit" }, "Set desired")) : null;
      return h("div", { class: "panel", "data-feature": feature.id }, h("h3", {}, feature.id),
        paths.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Property"), h("th", {}, "Reported"),
          h("th", {}, "Desired"), h("th", {}, ""))), h("tbody", {}, rows)) : h("p", { class: "muted" }, "No properties."),
        adder);
    });
    features.replaceChildren(h("h2", { id: "features-title" }, "Features"),
      ...(list.length ? list : [h("p", { class: "muted" }, "No features yet.")]));
  }

  function editor(text, label, save) {
    const input = h("input", { value: text, "aria-label": label });
    return h("form", { class: "edit", onsubmit: (e) => { e.preventDefault(); save(input.value, input); } },
      input, h("button", { type: "submit" }, "Set"));
  }

  /** Applies a change to the twin shown; a change that does not follow the shown revision reloads. */
  function apply(change) {
    if (!twin || change.revision <= twin.revision) {
      return;
    }
    if (change.previousRevision !== twin.revision) {
      load();
      return;
    }
    const byFeature = new Map((twin.features || []).map((f) => [f.id, f]));
    for (const [path, value] of Object.entries(change.changes)) {
      const [root, featureId, part, ...rest] = path.split("/");
      if (path === "attributes") {
        twin.attributes = value ?? {};
      } else if (root === "attributes") {
        twin.attributes = twin.attributes || {};
        setPath(twin.attributes, path.slice("attributes/".length), value);
      } else if (root === "features" && featureId) {
        if (!byFeature.has(featureId)) {
          const created = { id: featureId, properties: {}, desiredProperties: {}, delta: {} };
          byFeature.set(featureId, created);
          twin.features = [...(twin.features || []), created];
        }
        const feature = byFeature.get(featureId);
        if ((part === "properties" || part === "desiredProperties") && rest.length) {
          setPath(feature[part], rest.join("/"), value);
        } else if (part === undefined && value === null) {
          twin.features = twin.features.filter((f) => f.id !== featureId);
        } else {
          load();
          return;
        }
      } else {
        load();
        return;
      }
    }
    for (const feature of twin.features || []) {
      feature.delta = change.delta?.[feature.id] || {};
    }
    twin.revision = change.revision;
    twin.modified = change.modified;
    render();
    for (const path of Object.keys(change.changes)) {
      const shown = path.replace(/^(features\/[^/]+)\/(properties|desiredProperties)\//, "$1/");
      main.querySelector(`tr[data-path="${CSS.escape(shown)}"]`)?.classList.add("flash");
    }
  }

  let unsubscribe = () => {};
  load().then((found) => {
    if (!found) {
      return;
    }
    unsubscribe = subscribe("twins", `subscription($ids: [String]) { twinChanged(ids: $ids) {
        thingId revision previousRevision modified changes delta } }`, { ids: [thingId] }, {
      next: (data) => apply(data.twinChanged),
      error: (e) => say(problemBox({ title: "Live updates stopped", detail: e.message || String(e) })),
      reopened: () => load(),
    });
  });
  onLiveState("twins", (ready) => {
    live.textContent = ready ? "live" : "reconnecting…";
    live.dataset.live = String(ready);
  });
  return () => {
    unsubscribe();
    commands.close();
  };
}
