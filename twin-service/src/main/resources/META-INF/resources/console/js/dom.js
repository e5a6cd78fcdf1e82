// Building the page from data: every value goes in as text, never as markup, since twins hold what
// devices and users wrote.

/** h("td", {class: "x", onclick: f}, "text", child, ...) */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "value") {
      el.value = value;
    } else {
      el.setAttribute(name, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
}

/** A JSON value as compact text. */
export function show(value) {
  return value === undefined ? "" : JSON.stringify(value);
}

/** A problem from the API, readable: its title, detail and, for a filter, where in it. */
export function problemBox(problem, source) {
  const box = h("div", { class: "problem", role: "alert" }, h("strong", {}, problem.title || "Error"),
    problem.status ? ` (${problem.status})` : "", problem.detail ? h("div", {}, problem.detail) : null);
  if (source !== undefined && problem.position >= 0) {
    box.append(h("pre", { "data-role": "error-position" }, source, "\n", " ".repeat(problem.position),
      h("span", { class: "caret" }, "^")));
  }
  return box;
}

/** Leaf values of a JSON object by slash path: {a: {b: 1}} -> [["a/b", 1]]. */
export function leaves(object, prefix = "") {
  const out = [];
  for (const [key, value] of Object.entries(object || {})) {
    const path = prefix ? `${prefix}/${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
      out.push(...leaves(value, path));
    } else {
      out.push([path, value]);
    }
  }
  return out;
}

/** Sets (or, for null, removes) the value at a slash path in a JSON object, making the objects on the way. */
export function setPath(object, path, value) {
  const parts = path.split("/");
  let node = object;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === null || typeof node[part] !== "object") {
      node[part] = {};
    }
    node = node[part];
  }
  const last = parts[parts.length - 1];
  if (value === null) {
    delete node[last];
  } else {
    node[last] = value;
  }
}
