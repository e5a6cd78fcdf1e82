// The console's shell: settings, sign-in, the user's bar, and the routes (#/things, #/things/{id}, #/commands, #/devices).
import * as auth from "./auth.js";
import * as api from "./api.js";
import { h, problemBox } from "./dom.js";
import { closeAll } from "./live.js";
import { fleet } from "./fleet.js";
import { twinView } from "./twin.js";
import { devices } from "./devices.js";
import { commandPanel } from "./commands.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let leave = () => {};

function signInPage(error) {
  nav.replaceChildren();
  who.replaceChildren();
  main.replaceChildren(h("div", {}, h("h1", {}, "Doppel Console"),
    h("p", {}, "The live model of your devices: twins, their reported and desired state, and commands."),
    error ? problemBox({ title: "Not signed in", detail: error.message }) : null,
    h("button", { id: "sign-in", onclick: () => auth.signIn() }, "Sign in")));
}

function bar(me) {
  // The roles the user holds, without those a held one includes (an admin is everything; an operator a viewer).
  const roles = me.isAdmin ? ["admin"] : ["dt-operator", "dt-device-admin", "dt-viewer"].filter((r) => me.roles.has(r))
    .filter((r) => r !== "dt-viewer" || !me.roles.has("dt-operator")).map((r) => r.slice(3));
  const here = (prefix) => (location.hash || "#/things").startsWith(prefix) ? "page" : null;
  nav.replaceChildren(...[h("a", { href: "#/things", "aria-current": here("#/things") }, "Fleet"),
    me.roles.has("dt-viewer") ? h("a", { href: "#/commands", "aria-current": here("#/commands") }, "Commands") : null,
    me.mayManageDevices ? h("a", { href: "#/devices", "aria-current": here("#/devices") }, "Devices") : null]
    .filter(Boolean));
  who.replaceChildren(h("span", { id: "user" }, me.name), h("span", { class: "badge", id: "roles" }, roles.join(", ") || "no role"),
    h("span", { class: "muted hide-narrow", id: "tenants" }, me.isAdmin ? "all tenants" : me.tenants.join(", ") || "no tenant"),
    h("button", { class: "secondary", id: "sign-out", onclick: () => { closeAll(); auth.signOut(); } }, "Sign out"));
}

function commandsPage() {
  const commands = commandPanel(null);
  main.replaceChildren(h("h1", {}, "Commands"), commands.panel);
  return commands.close;
}

function route() {
  const me = auth.user();
  if (!me) {
    signInPage();
    return;
  }
  leave();
  bar(me);
  const [path, query] = (location.hash.slice(1) || "/things").split("?");
  const params = new URLSearchParams(query || "");
  const twin = /^\/things\/(.+)$/.exec(path);
  const readsTwins = me.roles.has("dt-viewer");
  leave = twin ? twinView(main, decodeURIComponent(twin[1]))
    : path === "/commands" && readsTwins ? commandsPage()
    : me.mayManageDevices && (path === "/devices" || !readsTwins) ? devices(main) : fleet(main, params);
  main.focus();
}

async function boot() {
  try {
    const response = await fetch("config.json");
    const config = await response.json();
    auth.configure(config);
    api.configure(config);
    auth.onUser((me) => { if (!me) signInPage(); });
    const signedIn = await auth.start();
    if (!signedIn) {
      signInPage();
      return;
    }
    window.addEventListener("hashchange", route);
    route();
  } catch (e) {
    signInPage(e);
  }
}

boot();
