import { describe, expect, it } from "vitest";
import {
  browserResponseHeaders,
  checkRoute,
  clientAddress,
  filterSetCookies,
  proxyConfig,
  sessionCookie,
  upstreamRequestHeaders,
  type ProxyConfig,
} from "./proxy";

const session: ProxyConfig = { gateway: "http://gw:2358", auth: "session", apiKey: null, apiKeyHeader: "X-Auth-Token", timeoutMs: 1000, trustedHops: 1 };
const keyed: ProxyConfig = { ...session, auth: "key", apiKey: "cr_secret" };

describe("proxy configuration", () => {
  it("uses sessions by default", () => {
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw:2358/" })).toEqual({ ...session, timeoutMs: 60_000 });
  });
  it("shares one key only when asked to", () => {
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_WEB_AUTH: "key", CODERUNNER_API_KEY: "k" })).toMatchObject({ auth: "key", apiKey: "k" });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_API_KEY: "k" })).toEqual({ error: expect.stringMatching(/CODERUNNER_WEB_AUTH/) });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_WEB_AUTH: "key" })).toEqual({ error: expect.stringMatching(/needs CODERUNNER_API_KEY/) });
  });
  it("refuses bad values with the variable's name", () => {
    expect(proxyConfig({})).toEqual({ error: expect.stringMatching(/CODERUNNER_GATEWAY_URL/) });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "gw:2358" })).toEqual({ error: expect.stringMatching(/http\(s\) URL/) });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_WEB_AUTH: "cookie" })).toEqual({ error: expect.stringMatching(/"session" or "key"/) });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_PROXY_TIMEOUT_MS: "5s" })).toEqual({ error: expect.stringMatching(/CODERUNNER_PROXY_TIMEOUT_MS/) });
    expect(proxyConfig({ CODERUNNER_GATEWAY_URL: "http://gw", CODERUNNER_WEB_TRUSTED_HOPS: "11" })).toEqual({ error: expect.stringMatching(/TRUSTED_HOPS/) });
  });
});

describe("proxy routes", () => {
  it("forwards the Judge0 routes in both modes", () => {
    for (const auth of ["session", "key"] as const) {
      expect(checkRoute("languages", "GET", auth)).toBe("ok");
      expect(checkRoute("languages/71", "GET", auth)).toBe("ok");
      expect(checkRoute("submissions", "POST", auth)).toBe("ok");
      expect(checkRoute("submissions/batch", "POST", auth)).toBe("ok");
      expect(checkRoute("submissions/0b5c-aa", "GET", auth)).toBe("ok");
      expect(checkRoute("client-config", "GET", auth)).toBe("ok");
      expect(checkRoute("shares", "POST", auth)).toBe("ok");
      expect(checkRoute("submissions/0b5c-aa/events", "GET", auth)).toBe("ok");
      expect(checkRoute("submissions/0b5c-aa/events", "POST", auth)).toBe(405);
      expect(checkRoute("submissions/0b5c-aa/other", "GET", auth)).toBe(404);
      expect(checkRoute("api/v2/runtimes", "GET", auth)).toBe("ok");
      expect(checkRoute("api/v2/execute", "POST", auth)).toBe(404);
      expect(checkRoute("shares/Ab3xY9kQ2m_-", "GET", auth)).toBe("ok");
      expect(checkRoute("shares/Ab3xY9kQ2m_-", "DELETE", auth)).toBe(405);
      expect(checkRoute("shares/a/b", "GET", auth)).toBe(404);
    }
  });
  it("forwards the gateway's per-user routes only with sessions", () => {
    const own: [string, string][] = [
      ["session", "GET"],
      ["session", "POST"],
      ["auth/register", "POST"],
      ["auth/login", "POST"],
      ["auth/logout", "POST"],
      ["history", "GET"],
      ["history/abc-123", "DELETE"],
    ];
    for (const [path, method] of own) {
      expect(checkRoute(path, method, "session")).toBe("ok");
      expect(checkRoute(path, method, "key")).toBe(404);
    }
  });
  it("refuses everything else", () => {
    expect(checkRoute("submissions/abc", "DELETE", "session")).toBe(405);
    expect(checkRoute("history", "DELETE", "session")).toBe(405);
    expect(checkRoute("session", "DELETE", "session")).toBe(405);
    expect(checkRoute("workers", "GET", "key")).toBe(404);
    expect(checkRoute("system_info", "GET", "session")).toBe(404);
    expect(checkRoute("statistics", "GET", "session")).toBe(404);
    expect(checkRoute("metrics", "GET", "session")).toBe(404);
    expect(checkRoute("auth/keys", "POST", "session")).toBe(404);
    expect(checkRoute("history/../workers", "DELETE", "session")).toBe(404);
    expect(checkRoute("submissions/a/b", "GET", "session")).toBe(404);
    expect(checkRoute("api/v2/execute", "POST", "session")).toBe(404);
  });
});

describe("proxy request headers", () => {
  const browser = new Headers({
    accept: "application/json",
    "content-type": "application/json",
    cookie: "theme=dark; coderunner_session=s.abc-123; other=1",
    authorization: "Bearer stolen",
    "x-auth-token": "cr_from_browser",
    connection: "keep-alive, x-secret",
    "x-secret": "1",
    "transfer-encoding": "chunked",
    host: "ide.example",
    "x-forwarded-for": "203.0.113.9",
    "x-internal-credential": "forged",
  });
  it("passes only the session cookie and the client address with sessions", () => {
    const h = upstreamRequestHeaders(browser, session);
    expect(Object.fromEntries(h)).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      cookie: "coderunner_session=s.abc-123",
      "x-forwarded-for": "203.0.113.9",
    });
  });
  it("adds the server's key and no cookie in key mode", () => {
    const h = upstreamRequestHeaders(browser, keyed);
    expect(Object.fromEntries(h)).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      "x-auth-token": "cr_secret",
      "x-forwarded-for": "203.0.113.9",
    });
  });
  it("sends no cookie when the browser has no session", () => {
    expect(upstreamRequestHeaders(new Headers({ cookie: "a=b" }), session).has("cookie")).toBe(false);
  });
  it("reads the session cookie exactly", () => {
    expect(sessionCookie("coderunner_session=v1")).toBe("coderunner_session=v1");
    expect(sessionCookie("xcoderunner_session=v1; coderunner_session_old=v2")).toBeNull();
    expect(sessionCookie("coderunner_session=a b")).toBeNull();
    expect(sessionCookie("coderunner_session=a\r\nX-Evil: 1")).toBeNull();
    expect(sessionCookie(null)).toBeNull();
  });
  it("picks the client address set by the trusted hop", () => {
    expect(clientAddress("203.0.113.9", 1)).toBe("203.0.113.9");
    // A client's own claim first, then what nginx appended.
    expect(clientAddress("6.6.6.6, 198.18.0.7", 1)).toBe("198.18.0.7");
    expect(clientAddress("6.6.6.6, 198.18.0.7, 10.0.0.1", 2)).toBe("198.18.0.7");
    expect(clientAddress("198.18.0.7", 3)).toBe("198.18.0.7");
    expect(clientAddress("::ffff:127.0.0.1", 1)).toBe("::ffff:127.0.0.1");
    expect(clientAddress("evil\r\nhost", 1)).toBeNull();
    expect(clientAddress("", 1)).toBeNull();
  });
});

describe("proxy response headers", () => {
  function gatewayAnswer() {
    const h = new Headers({
      "content-type": "application/json",
      "retry-after": "3",
      "ratelimit-remaining": "0",
      connection: "close",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      server: "coderunner-gateway",
      "x-upstream": "api-2",
    });
    h.append("set-cookie", "coderunner_session=new.sig; Path=/; HttpOnly; SameSite=Lax; Domain=gw.internal; Max-Age=86400");
    h.append("set-cookie", "upstream_affinity=api-2; Path=/");
    h.append("set-cookie", "coderunner_session_x=1; Path=/");
    return h;
  }
  it("lets a live event stream through unbuffered", () => {
    const out = browserResponseHeaders(new Headers({ "content-type": "text/event-stream", "cache-control": "no-cache" }), session);
    expect(out.get("content-type")).toBe("text/event-stream");
    expect(out.get("cache-control")).toBe("no-cache, no-transform");
    expect(out.get("x-accel-buffering")).toBe("no");
    expect(browserResponseHeaders(gatewayAnswer(), session).get("x-accel-buffering")).toBeNull();
  });
    it("passes back content and limit headers and only the session cookie", () => {
    const out = browserResponseHeaders(gatewayAnswer(), session);
    expect(out.getSetCookie()).toEqual(["coderunner_session=new.sig; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400"]);
    const rest = Object.fromEntries([...out].filter(([k]) => k !== "set-cookie"));
    expect(rest).toEqual({ "content-type": "application/json", "retry-after": "3", "ratelimit-remaining": "0" });
  });
  it("passes back no cookie in key mode", () => {
    expect(browserResponseHeaders(gatewayAnswer(), keyed).getSetCookie()).toEqual([]);
  });
  it("drops cookies that only look alike", () => {
    expect(filterSetCookies(["coderunner_session", " coderunner_session=v ; domain = x ; Secure", "Coderunner_Session=v"])).toEqual([
      "coderunner_session=v; Secure",
    ]);
  });
});
