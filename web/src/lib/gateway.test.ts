import { describe, expect, it } from "vitest";
import { GatewayClient, decodeClientConfig, decodeHistoryPage, ensureSession } from "./gateway";
import { effectiveSettings, offeredLanguages, startLanguage } from "./clientConfig";
import { DEFAULT_SETTINGS } from "./storage";

type Call = { method: string; url: string; body?: string };

/** A fake gateway: answers by "METHOD path" from a table, records the calls. */
function fakeGateway(table: Record<string, [number, unknown] | undefined>) {
  const calls: Call[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    calls.push({ method, url, body: init?.body as string | undefined });
    const hit = table[`${method} ${url.split("?")[0]}`];
    if (!hit) return new Response(JSON.stringify({ error: "Not Found" }), { status: 404 });
    const [status, body] = hit;
    return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { gw: new GatewayClient("/api", fetchFn), calls };
}

const sessionBody = (user: string | null, accounts = true) => ({
  session: { user: user ? { name: user } : null, expires_at: "2026-12-05T18:00:00Z" },
  accounts,
});

describe("session on load", () => {
  it("keeps a valid session without making one", async () => {
    const { gw, calls } = fakeGateway({ "GET /api/session": [200, sessionBody("ann")] });
    expect(await ensureSession(gw)).toEqual({ kind: "gateway", session: { user: { name: "ann" }, expiresAt: "2026-12-05T18:00:00Z", accounts: true } });
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
  });
  it("makes a session when the gateway answers 401", async () => {
    const { gw, calls } = fakeGateway({ "GET /api/session": [401, { error: "no session" }], "POST /api/session": [201, sessionBody(null, false)] });
    expect(await ensureSession(gw)).toEqual({ kind: "gateway", session: { user: null, expiresAt: "2026-12-05T18:00:00Z", accounts: false } });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["GET /api/session", "POST /api/session"]);
  });
  it("has no sessions when the route does not exist (one shared key)", async () => {
    const { gw, calls } = fakeGateway({});
    expect(await ensureSession(gw)).toEqual({ kind: "none" });
    expect(calls).toHaveLength(1);
  });
  it("reports a gateway that fails", async () => {
    const { gw } = fakeGateway({ "GET /api/session": [502, { error: "the gateway at http://gw cannot be reached" }] });
    await expect(ensureSession(gw)).rejects.toMatchObject({ kind: "server", serverMessage: "the gateway at http://gw cannot be reached" });
  });
  it("refuses an answer that is not a session", async () => {
    const { gw } = fakeGateway({ "GET /api/session": [200, { user: "ann" }] });
    await expect(ensureSession(gw)).rejects.toMatchObject({ kind: "server" });
  });
});

describe("accounts", () => {
  it("signs in with a JSON body and reads the user", async () => {
    const { gw, calls } = fakeGateway({ "POST /api/auth/login": [200, { user: { name: "ann" } }] });
    expect(await gw.login("ann", "pw")).toEqual({ name: "ann" });
    expect(JSON.parse(calls[0]!.body!)).toEqual({ username: "ann", password: "pw" });
  });
  it("passes the gateway's reason on", async () => {
    const { gw } = fakeGateway({ "POST /api/auth/login": [401, { error: "wrong username or password" }], "POST /api/auth/register": [409, { error: "the name is taken" }] });
    await expect(gw.login("ann", "x")).rejects.toMatchObject({ serverMessage: "wrong username or password" });
    await expect(gw.register("ann", "x")).rejects.toMatchObject({ status: 409, serverMessage: "the name is taken" });
  });
  it("signs out with a 204", async () => {
    const { gw } = fakeGateway({ "POST /api/auth/logout": [204, null] });
    await expect(gw.logout()).resolves.toBeUndefined();
  });
});

describe("gateway history", () => {
  const item = {
    token: "t1",
    language_id: 71,
    status: { id: 3, description: "Accepted" },
    time: "0.01",
    memory: 3000,
    created_at: "2026-12-04T10:00:00Z",
    finished_at: "2026-12-04T10:00:01Z",
    source_code: "print(1)",
    stdin: null,
  };
  it("reads a page and its cursor", async () => {
    const { gw, calls } = fakeGateway({ "GET /api/history": [200, { items: [item], next_cursor: "c2" }] });
    const page = await gw.history("c 1", 20);
    expect(calls[0]!.url).toBe("/api/history?limit=20&cursor=c%201");
    expect(page).toEqual({
      items: [{ token: "t1", languageId: 71, status: { id: 3, description: "Accepted" }, time: "0.01", memory: 3000, createdAt: "2026-12-04T10:00:00Z", finishedAt: "2026-12-04T10:00:01Z", sourceCode: "print(1)", stdin: null }],
      nextCursor: "c2",
    });
  });
  it("drops items it cannot use and keeps the others", () => {
    const page = decodeHistoryPage({ items: [item, { ...item, token: 5 }, { ...item, source_code: null }, null, { ...item, token: "t2", status: "x", time: 0.5 }], next_cursor: null });
    expect(page.items.map((i) => [i.token, i.status, i.time])).toEqual([
      ["t1", { id: 3, description: "Accepted" }, "0.01"],
      ["t2", null, "0.5"],
    ]);
    expect(page.nextCursor).toBeNull();
    expect(() => decodeHistoryPage({ items: "no" })).toThrow(/not a list/);
  });
  it("deletes by token, escaped", async () => {
    const { gw, calls } = fakeGateway({ "DELETE /api/history/a%2Fb": [204, null] });
    await gw.deleteHistory("a/b");
    expect(calls[0]).toMatchObject({ method: "DELETE", url: "/api/history/a%2Fb" });
  });
});

describe("short share links", () => {
  it("keeps a link's text and reads it back by id", async () => {
    const { gw, calls } = fakeGateway({
      "POST /api/shares": [201, { id: "Ab3xY9kQ2m_-", data: "z=abc", created_at: "2026-12-04T21:00:00Z" }],
      "GET /api/shares/Ab3xY9kQ2m_-": [200, { id: "Ab3xY9kQ2m_-", data: "z=abc", created_at: "2026-12-04T21:00:00Z" }],
    });
    expect(await gw.createShare("z=abc")).toBe("Ab3xY9kQ2m_-");
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ data: "z=abc" });
    expect(await gw.getShare("Ab3xY9kQ2m_-")).toBe("z=abc");
  });
  it("refuses answers without an id or data, and passes a 404 on", async () => {
    const { gw } = fakeGateway({ "POST /api/shares": [201, { id: "../x" }], "GET /api/shares/x": [200, {}] });
    await expect(gw.createShare("z=abc")).rejects.toThrow(/no id/);
    await expect(gw.getShare("x")).rejects.toThrow(/no data/);
    await expect(gw.getShare("missing")).rejects.toMatchObject({ status: 404 });
  });
});

describe("client configuration", () => {
  const langs = [
    { id: 50, name: "C (GCC 12)" },
    { id: 54, name: "C++ (GCC 12)" },
    { id: 71, name: "Python (3.11)" },
  ];
  it("decodes what the operator set, and nothing else", () => {
    expect(
      decodeClientConfig({ default_language_id: 54, languages: [71, 54, "x"], editor: { tab_size: 2, keymap: "vim", theme: "dark" }, notice: "Maintenance at 18:00" }),
    ).toEqual({ defaultLanguageId: 54, languages: [71, 54], editor: { tabSize: 2, keymap: "vim", theme: "dark" }, notice: "Maintenance at 18:00" });
    expect(decodeClientConfig({ default_language_id: "54", languages: [], editor: { tab_size: 99, keymap: "emacs", theme: "pink" }, notice: "  " })).toEqual({
      defaultLanguageId: null,
      languages: null,
      editor: { tabSize: null, keymap: null, theme: null },
      notice: null,
    });
  });
  it("offers the enabled languages and starts with the default", () => {
    const cfg = decodeClientConfig({ default_language_id: 54, languages: [71, 54] });
    const offered = offeredLanguages(langs, cfg);
    expect(offered.map((l) => l.id)).toEqual([54, 71]);
    expect(startLanguage(offered, cfg)).toBe(54);
    // A default that is not offered: the usual choice among those offered.
    expect(startLanguage(offered, decodeClientConfig({ default_language_id: 50 }))).toBe(71);
    // A filter that matches nothing here would leave an empty page: everything is offered.
    expect(offeredLanguages(langs, decodeClientConfig({ languages: [999] }))).toEqual(langs);
  });
  it("applies editor defaults only where the user has not chosen", () => {
    const cfg = decodeClientConfig({ editor: { tab_size: 2, keymap: "vim", theme: "dark" } });
    expect(effectiveSettings(DEFAULT_SETTINGS, cfg)).toMatchObject({ tabSize: 2, vim: true, theme: "dark" });
    const mine = { ...DEFAULT_SETTINGS, tabSize: 8, vim: false, theme: "light" as const, chosen: ["tabSize" as const, "theme" as const] };
    expect(effectiveSettings(mine, cfg)).toMatchObject({ tabSize: 8, vim: true, theme: "light" });
    expect(effectiveSettings(mine, decodeClientConfig({}))).toMatchObject({ tabSize: 8, vim: false, theme: "light" });
  });
});
