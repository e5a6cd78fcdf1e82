// Sign-in through Keycloak: authorization code with PKCE (S256) for a public client, no secret in the
// page. Tokens live in this tab only (sessionStorage), are refreshed before they expire, and are
// dropped on sign-out. The user's roles and tenants are read from the access token; the APIs check
// them again on every request, so what the page hides is a courtesy, never the protection.

const STORE = "doppel.console.tokens";
const PENDING = "doppel.console.signin";

let settings;
let tokens = null;
let refreshTimer = null;
const listeners = new Set();

export function configure(config) {
  settings = config;
}

function endpoint(name) {
  return `${settings.keycloakUrl}/protocol/openid-connect/${name}`;
}

function redirectUri() {
  return location.origin + location.pathname;
}

function random(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  let s = "";
  new Uint8Array(bytes).forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function claims(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const text = atob(part + "===".slice((part.length + 3) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
}

export async function signIn() {
  const verifier = random(48);
  const state = random(24);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, back: location.hash }));
  const query = new URLSearchParams({
    client_id: settings.clientId,
    redirect_uri: redirectUri(),
    response_type: "code",
    scope: "openid",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${endpoint("auth")}?${query}`);
}

/** After Keycloak sends the browser back: trades the code for tokens. Says whether the user is signed in. */
export async function start() {
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", redirectUri() + (pending?.back || ""));
    if (params.has("error")) {
      throw new Error(`Sign-in failed: ${params.get("error_description") || params.get("error")}`);
    }
    if (!pending || pending.state !== params.get("state")) {
      throw new Error("Sign-in failed: the answer does not belong to a sign-in started here. Sign in again.");
    }
    await grant({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    });
    return true;
  }
  const kept = JSON.parse(sessionStorage.getItem(STORE) || "null");
  if (kept && claims(kept.refresh_token).exp * 1000 > Date.now() + 5000) {
    accept(kept);
    if (claims(kept.access_token).exp * 1000 < Date.now() + 10000) {
      await refresh();
    }
    return tokens !== null;
  }
  return false;
}

async function grant(fields) {
  const response = await fetch(endpoint("token"), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: settings.clientId, ...fields }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`Keycloak refused: ${body.error_description || body.error || response.status}`);
  }
  accept(body);
}

function accept(body) {
  tokens = body;
  sessionStorage.setItem(STORE, JSON.stringify(body));
  clearTimeout(refreshTimer);
  const expires = claims(body.access_token).exp * 1000;
  refreshTimer = setTimeout(() => refresh().catch(() => signedOut()), Math.max(1000, expires - Date.now() - 30000));
  listeners.forEach((l) => l(user()));
}

async function refresh() {
  try {
    await grant({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
  } catch (e) {
    signedOut();
    throw e;
  }
}

function signedOut() {
  tokens = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(STORE);
  listeners.forEach((l) => l(null));
}

export function signOut() {
  const idToken = tokens?.id_token;
  signedOut();
  const query = new URLSearchParams({ client_id: settings.clientId, post_logout_redirect_uri: redirectUri() });
  if (idToken) {
    query.set("id_token_hint", idToken);
  }
  location.assign(`${endpoint("logout")}?${query}`);
}

export function accessToken() {
  return tokens?.access_token;
}

/** Called with the user on every new token, and with null when signed out. */
export function onUser(listener) {
  listeners.add(listener);
}

export function user() {
  if (!tokens) {
    return null;
  }
  const c = claims(tokens.access_token);
  const roles = new Set(c.realm_access?.roles || []);
  return {
    name: c.preferred_username || c.sub,
    tenants: c.tenants || [],
    roles,
    isAdmin: roles.has("dt-admin"),
    mayOperate: roles.has("dt-operator") || roles.has("dt-admin"),
    mayManageDevices: roles.has("dt-device-admin") || roles.has("dt-admin"),
  };
}
