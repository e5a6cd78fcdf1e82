// Devices (device admins): register one with a password, look one up, enable or disable it, give it
// a new password, remove it. The registry is connectivity-service's; its answers are shown as they are.
import { call, segments } from "./api.js";
import { h, problemBox } from "./dom.js";
import { user } from "./auth.js";

function credential(deviceId, password) {
  return [{ type: "hashed-password", "auth-id": deviceId, secrets: [{ "pwd-plain": password }] }];
}

export function devices(main) {
  const me = user();
  const messages = h("div", { id: "device-messages", "aria-live": "polite" });
  const card = h("div", { id: "device-card" });
  const tenantField = () => me.isAdmin
    ? h("input", { name: "tenant", required: true, placeholder: "tenant", "aria-label": "Tenant", value: me.tenants[0] || "" })
    : h("select", { name: "tenant", "aria-label": "Tenant" }, me.tenants.map((t) => h("option", { value: t }, t)));

  const register = h("form", { class: "panel", id: "register-device", onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const [tenant, id, password] = [f.tenant.value.trim(), f.device.value.trim(), f.password.value];
    try {
      await call("devices", "PUT", `/api/registry/devices/${segments(tenant, id)}`, { body: { enabled: f.enabled.checked } });
      await call("devices", "PUT", `/api/registry/credentials/${segments(tenant, id)}`, { body: credential(id, password) });
      f.password.value = "";
      messages.replaceChildren(h("p", { "data-role": "registered" }, `Registered ${id}@${tenant}: it logs in as `,
        h("code", {}, `${id}@${tenant}`), " with its password."));
      show(tenant, id);
    } catch (err) {
      messages.replaceChildren(problemBox(err));
    }
  } }, h("h2", {}, "Register a device"),
  h("div", { class: "row" }, h("label", {}, "Tenant", tenantField()),
    h("label", {}, "Device id", h("input", { name: "device", required: true, pattern: "[A-Za-z0-9._-]+", "aria-label": "Device id" })),
    h("label", {}, "Password (8 or more characters)", h("input", { name: "password", type: "password", minlength: 8, required: true,
      autocomplete: "new-password", "aria-label": "Password" })),
    h("label", {}, "Enabled", h("input", { name: "enabled", type: "checkbox", checked: true, "aria-label": "Enabled" })),
    h("button", { type: "submit" }, "Register")));

  const find = h("form", { class: "panel", id: "find-device", onsubmit: (e) => {
    e.preventDefault();
    show(e.target.elements.tenant.value.trim(), e.target.elements.device.value.trim());
  } }, h("h2", {}, "Find a device"), h("div", { class: "row" }, h("label", {}, "Tenant", tenantField()),
    h("label", {}, "Device id", h("input", { name: "device", required: true, "aria-label": "Device id" })),
    h("button", { type: "submit", class: "secondary" }, "Show")));

  async function show(tenant, id) {
    const path = `/api/registry/devices/${segments(tenant, id)}`;
    try {
      const { body: device } = await call("devices", "GET", path);
      const toggle = async () => {
        const next = { enabled: !device.enabled, mapping: device.mapping, via: device.via, defaults: device.defaults };
        try {
          await call("devices", "PUT", path, { body: next });
          messages.replaceChildren(h("p", {}, `${id}@${tenant} is now ${next.enabled ? "enabled" : "disabled"}.`));
          show(tenant, id);
        } catch (err) {
          messages.replaceChildren(problemBox(err));
        }
      };
      const password = h("input", { type: "password", minlength: 8, autocomplete: "new-password", "aria-label": "New password" });
      card.replaceChildren(h("div", { class: "panel", "data-device": `${tenant}:${id}`, "data-enabled": String(device.enabled) },
        h("h2", {}, `${id}@${tenant}`),
        h("p", {}, h("span", { class: `badge ${device.enabled ? "" : "pending"}` }, device.enabled ? "enabled" : "disabled"),
          " registered ", new Date(device.created).toLocaleString(),
          me.roles.has("dt-viewer") ? [" · ", h("a", { href: `#/things/${encodeURIComponent(`${tenant}:${id}`)}` }, "its twin")] : ""),
        h("div", { class: "row" },
          h("button", { class: "secondary", "data-role": "toggle", onclick: toggle }, device.enabled ? "Disable" : "Enable"),
          h("form", { class: "row", onsubmit: async (e) => {
            e.preventDefault();
            try {
              await call("devices", "PUT", `/api/registry/credentials/${segments(tenant, id)}`, { body: credential(id, password.value) });
              password.value = "";
              messages.replaceChildren(h("p", {}, `${id}@${tenant} has a new password; its other credentials were replaced.`));
            } catch (err) {
              messages.replaceChildren(problemBox(err));
            }
          } }, password, h("button", { type: "submit", class: "secondary" }, "Replace credentials with this password")),
          h("button", { class: "secondary", onclick: async () => {
            if (!confirm(`Remove ${id}@${tenant}, its credentials and its twin?`)) {
              return;
            }
            try {
              await call("devices", "DELETE", path);
              card.replaceChildren();
              messages.replaceChildren(h("p", {}, `${id}@${tenant} was removed.`));
            } catch (err) {
              messages.replaceChildren(problemBox(err));
            }
          } }, "Remove"))));
    } catch (err) {
      card.replaceChildren(problemBox(err));
    }
  }

  main.replaceChildren(h("h1", {}, "Devices"), messages, register, find, card);
  return () => {};
}
