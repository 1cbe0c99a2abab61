// The logic of the cluster-mode proxy (src/app/api/[...path]/route.proxy.ts), kept apart from
// Next so that it can be unit-tested: which routes and methods are forwarded, which headers
// cross in each direction, and how the server is configured.
//
// Two ways to authenticate to the gateway, chosen with CODERUNNER_WEB_AUTH:
//  - "session" (the default): each browser has its own gateway session. The proxy passes
//    the browser's `coderunner_session` cookie to the gateway and the gateway's Set-Cookie
//    for it back, and nothing else of the kind. Runs, history and accounts are per browser.
//  - "key": one server-held API key (CODERUNNER_API_KEY) is added to every request; every
//    visitor shares it, so the gateway's own per-user routes (session, accounts, history)
//    are not forwarded and the IDE keeps history in the browser. Cookies never cross.
// A key without CODERUNNER_WEB_AUTH=key is a configuration error, not silently ignored.

export type AuthMode = "session" | "key";

export interface ProxyConfig {
  gateway: string;
  auth: AuthMode;
  apiKey: string | null;
  apiKeyHeader: string;
  timeoutMs: number;
  /** How many proxies in front of this server append to X-Forwarded-For (see clientAddress). */
  trustedHops: number;
}

export const SESSION_COOKIE = "coderunner_session";

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, dflt: number, min: number, max: number): number | string {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) return `${name} must be a whole number from ${min} to ${max} (got "${raw}")`;
  return Number(raw);
}

/** The proxy's configuration from the environment, or the reason it is wrong. */
export function proxyConfig(env: Env): ProxyConfig | { error: string } {
  const gateway = env.CODERUNNER_GATEWAY_URL;
  if (!gateway) return { error: "the IDE server has no CODERUNNER_GATEWAY_URL configured" };
  if (!/^https?:\/\/[^/]/.test(gateway)) return { error: `CODERUNNER_GATEWAY_URL must be an http(s) URL (got "${gateway}")` };
  const auth = env.CODERUNNER_WEB_AUTH || "session";
  if (auth !== "session" && auth !== "key") return { error: `CODERUNNER_WEB_AUTH must be "session" or "key" (got "${auth}")` };
  const apiKey = env.CODERUNNER_API_KEY || null;
  if (auth === "key" && !apiKey) return { error: "CODERUNNER_WEB_AUTH=key needs CODERUNNER_API_KEY" };
  if (auth === "session" && apiKey)
    return { error: "CODERUNNER_API_KEY is set but CODERUNNER_WEB_AUTH is not \"key\": sessions are the default; set CODERUNNER_WEB_AUTH=key to share one key, or unset the key" };
  const timeoutMs = intSetting(env, "CODERUNNER_PROXY_TIMEOUT_MS", 60_000, 1, 3_600_000);
  if (typeof timeoutMs === "string") return { error: timeoutMs };
  const trustedHops = intSetting(env, "CODERUNNER_WEB_TRUSTED_HOPS", 1, 0, 10);
  if (typeof trustedHops === "string") return { error: trustedHops };
  return {
    gateway: gateway.replace(/\/+$/, ""),
    auth,
    apiKey,
    apiKeyHeader: env.CODERUNNER_API_KEY_HEADER || "X-Auth-Token",
    timeoutMs,
    trustedHops,
  };
}

interface Route {
  path: RegExp;
  methods: readonly string[];
  /** The gateway's per-user routes: only with per-browser sessions. */
  sessionOnly?: boolean;
}

const TOKEN = "[A-Za-z0-9_-]+";

/** Everything the proxy forwards; anything else is a 404 without asking the gateway. */
export const ROUTES: readonly Route[] = [
  { path: /^languages(\/all|\/\d+)?$/, methods: ["GET"] },
  { path: /^(statuses|about|version|config_info)$/, methods: ["GET"] },
  { path: /^submissions(\/batch)?$/, methods: ["GET", "POST"] },
  { path: new RegExp(`^submissions/${TOKEN}$`), methods: ["GET"] },
  // A run's live events (Server-Sent Events), streamed through as they come.
  { path: new RegExp(`^submissions/${TOKEN}/events$`), methods: ["GET"] },
  { path: /^api\/v2\/runtimes$/, methods: ["GET"] },
  { path: /^client-config$/, methods: ["GET"] },
  { path: /^shares$/, methods: ["POST"] },
  { path: new RegExp(`^shares/${TOKEN}$`), methods: ["GET"] },
  { path: /^session$/, methods: ["GET", "POST"], sessionOnly: true },
  { path: /^auth\/(register|login|logout)$/, methods: ["POST"], sessionOnly: true },
  { path: /^history$/, methods: ["GET"], sessionOnly: true },
  { path: new RegExp(`^history/${TOKEN}$`), methods: ["DELETE"], sessionOnly: true },
];

/** "ok", or why the proxy answers by itself: 404 (no such route here) or 405 (method). */
export function checkRoute(path: string, method: string, auth: AuthMode): "ok" | 404 | 405 {
  const route = ROUTES.find((r) => r.path.test(path));
  if (!route || (route.sessionOnly && auth !== "session")) return 404;
  return route.methods.includes(method) ? "ok" : 405;
}

/** The browser's own session cookie ("coderunner_session=v") from a Cookie header, or null. */
export function sessionCookie(cookieHeader: string | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      // A cookie value is printable ASCII without separators (RFC 6265); anything else is dropped.
      if (/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/.test(value)) return `${SESSION_COOKIE}=${value}`;
      return null;
    }
  }
  return null;
}

/**
 * The client's address from X-Forwarded-For. Next's server sets the header to the socket's
 * peer only when the request has none, so the rightmost `hops` entries are what the proxies
 * in front of this server appended (nginx's $proxy_add_x_forwarded_for); the one they saw
 * connecting is entry `hops` from the right. With hops=1 and nothing in front of Next, the
 * one entry is the socket's peer, unless the client sent the header itself: then its own
 * claim is the address, which is why the public edge must be a proxy that appends.
 */
export function clientAddress(xff: string | null, hops: number): string | null {
  if (!xff) return null;
  const parts = xff
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return null;
  const pick = parts[Math.max(0, parts.length - Math.max(1, hops))]!;
  // An IPv4 or IPv6 address (optionally with a zone), nothing else.
  return /^[0-9A-Fa-f:.%]+$/.test(pick) && pick.length <= 64 ? pick : null;
}

/** The headers sent to the gateway; everything else the browser sent stays here. */
export function upstreamRequestHeaders(incoming: Headers, cfg: ProxyConfig): Headers {
  const out = new Headers();
  for (const h of ["accept", "content-type"]) {
    const v = incoming.get(h);
    if (v) out.set(h, v);
  }
  if (cfg.auth === "key" && cfg.apiKey) out.set(cfg.apiKeyHeader, cfg.apiKey);
  if (cfg.auth === "session") {
    const cookie = sessionCookie(incoming.get("cookie"));
    if (cookie) out.set("cookie", cookie);
  }
  const addr = clientAddress(incoming.get("x-forwarded-for"), cfg.trustedHops);
  if (addr) out.set("x-forwarded-for", addr);
  return out;
}

/**
 * The gateway's Set-Cookie values that may reach the browser: only the session cookie,
 * without a Domain attribute (the cookie belongs to this server's host, whatever the
 * gateway's own name is).
 */
export function filterSetCookies(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0 || v.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const [pair, ...attrs] = v.split(";");
    const kept = attrs.map((a) => a.trim()).filter((a) => a && !/^domain\s*=/i.test(a));
    out.push([pair!.trim(), ...kept].join("; "));
  }
  return out;
}

const RESPONSE_HEADERS = ["content-type", "retry-after", "cache-control", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"];

/** The headers passed back to the browser: content and rate-limit headers, and the session cookie. */
export function browserResponseHeaders(upstream: Headers, cfg: ProxyConfig): Headers {
  const out = new Headers();
  for (const h of RESPONSE_HEADERS) {
    const v = upstream.get(h);
    if (v) out.set(h, v);
  }
  if (cfg.auth === "session") for (const c of filterSetCookies(upstream.getSetCookie())) out.append("set-cookie", c);
  if (isEventStream(upstream)) {
    // Each event as it comes: no compression (which buffers) here or in a proxy in front.
    out.set("cache-control", "no-cache, no-transform");
    out.set("x-accel-buffering", "no");
  }
  return out;
}

/** Whether an answer is a stream of Server-Sent Events. */
export function isEventStream(upstream: Headers): boolean {
  return (upstream.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream");
}
