// GraphQL subscriptions over WebSocket (the graphql-transport-ws protocol), signed in with the token
// in connection_init, as browsers cannot set headers on a WebSocket. One socket per API; it comes
// back after a drop (a restart, the token's expiry) with a fresh token and opens every subscription
// again, telling each that it may have missed changes so that its view reloads.
import { accessToken } from "./auth.js";
import { base } from "./api.js";

const sockets = new Map();

class LiveSocket {
  constructor(api) {
    this.api = api;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.socket = null;
    this.ready = false;
    this.retry = 500;
    this.onstate = () => {};
  }

  url() {
    const origin = base(this.api) || location.origin;
    return origin.replace(/^http/, "ws") + "/graphql";
  }

  open() {
    if (this.socket) {
      return;
    }
    const socket = new WebSocket(this.url(), "graphql-transport-ws");
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${accessToken()}` } }));
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = () => {
      const wasReady = this.ready;
      this.socket = null;
      this.ready = false;
      this.onstate(false);
      if (this.subscriptions.size > 0 && accessToken()) {
        setTimeout(() => this.open(), this.retry);
        this.retry = wasReady ? 500 : Math.min(this.retry * 2, 10000);
      }
    };
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack":
        this.ready = true;
        this.retry = 500;
        this.onstate(true);
        for (const [id, s] of this.subscriptions) {
          const again = s.started;
          this.start(id, s);
          if (again) {
            s.sink.reopened?.();
          }
        }
        break;
      case "ping":
        this.socket.send(JSON.stringify({ type: "pong" }));
        break;
      case "next": {
        const s = this.subscriptions.get(message.id);
        if (s && message.payload?.errors?.length) {
          s.sink.error?.(message.payload.errors[0]);
        } else if (s) {
          s.sink.next(message.payload.data);
        }
        break;
      }
      case "error":
        this.subscriptions.get(message.id)?.sink.error?.(message.payload?.[0] || message.payload);
        break;
      case "complete":
        this.subscriptions.delete(message.id);
        break;
      default:
        break;
    }
  }

  /** Closes the socket now; a subscription made after this opens a new one. */
  drop() {
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close(1000);
    this.onstate(false);
  }

  start(id, s) {
    s.started = true;
    this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: s.query, variables: s.variables } }));
  }

  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    const s = { query, variables, sink };
    this.subscriptions.set(id, s);
    if (this.ready) {
      this.start(id, s);
    } else {
      this.open();
    }
    return () => {
      if (this.subscriptions.delete(id) && this.ready) {
        this.socket.send(JSON.stringify({ id, type: "complete" }));
      }
      if (this.subscriptions.size === 0 && this.socket) {
        this.drop();
      }
    };
  }
}

/** Subscribes on the API's socket; sink has next(data), error(e) and reopened(). Returns the unsubscribe. */
export function subscribe(api, query, variables, sink) {
  if (!sockets.has(api)) {
    sockets.set(api, new LiveSocket(api));
  }
  return sockets.get(api).subscribe(query, variables, sink);
}

/** Called with true when the API's socket is signed in and live, false when it dropped. */
export function onLiveState(api, listener) {
  if (!sockets.has(api)) {
    sockets.set(api, new LiveSocket(api));
  }
  sockets.get(api).onstate = listener;
  listener(sockets.get(api).ready);
}

/** Closes every socket (on sign-out). */
export function closeAll() {
  for (const s of sockets.values()) {
    s.subscriptions.clear();
    if (s.socket) {
      s.drop();
    }
  }
}
