// Calls to Doppel's APIs with the signed-in user's token. A refusal arrives as RFC 9457 problem
// details and is thrown as a Problem, which the views show as it is.
import { accessToken } from "./auth.js";

export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.title = body?.title || `HTTP ${status}`;
    this.detail = body?.detail || "";
    this.type = body?.type || "";
  }

  /** The 0-based position an RQL error names ("RQL error at position 7: ..."), or -1. */
  get position() {
    const m = /at position (\d+)/.exec(this.detail);
    return m ? Number(m[1]) : -1;
  }
}

let bases = { twins: "", commands: "", devices: "" };

export function configure(config) {
  bases = { twins: "", commands: config.commandsUrl || "", devices: config.devicesUrl || "" };
}

/** The base URL of an API ("twins", "commands", "devices"); "" is this page's origin. */
export function base(api) {
  return bases[api];
}

/** One request; resolves to {status, body, etag, headers} for 2xx, throws a Problem otherwise. */
export async function call(api, method, path, { body, headers = {}, contentType } = {}) {
  const h = { Accept: "application/json, application/problem+json", ...headers };
  const token = accessToken();
  if (token) {
    h.Authorization = `Bearer ${token}`;
  }
  let payload;
  if (body !== undefined) {
    h["Content-Type"] = contentType || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(bases[api] + path, { method, headers: h, body: payload });
  } catch (e) {
    throw new Problem(0, { title: "No answer", detail: `${method} ${path} reached no server (${e.message})` });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    throw new Problem(response.status, typeof parsed === "object" ? parsed : { detail: String(parsed || "") });
  }
  return { status: response.status, body: parsed, etag: response.headers.get("ETag"), headers: response.headers };
}

/** A GraphQL query or mutation over HTTP; GraphQL errors are thrown as a Problem. */
export async function graphql(api, query, variables) {
  const { body } = await call(api, "POST", "/graphql", { body: { query, variables } });
  if (body.errors?.length) {
    const e = body.errors[0];
    const problem = e.extensions?.problem || {};
    throw new Problem(problem.status || 400, { title: problem.title || "Refused", detail: problem.detail || e.message,
      type: problem.type });
  }
  return body.data;
}

/** A thing id or a path of its parts, each segment URL-encoded. */
export function segments(...parts) {
  return parts.flatMap((p) => String(p).split("/")).map(encodeURIComponent).join("/");
}
