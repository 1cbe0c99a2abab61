import { describe, expect, it } from "vitest";
import type { GatewayClient, HistoryItem } from "./gateway";
import {
  INITIAL_HISTORY,
  LOCAL_HISTORY_MAX_CHARS,
  LOCAL_HISTORY_MAX_ITEMS,
  addLocalHistory,
  browserHistory,
  gatewayHistory,
  rememberRunFiles,
  RUN_FILES_MAX_ITEMS,
  historyReducer,
  loadLocalHistory,
  pageLocalHistory,
  removeLocalHistory,
} from "./history";

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

const item = (n: number, extra: Partial<HistoryItem> = {}): HistoryItem => ({
  token: `t${n}`,
  languageId: 71,
  status: { id: 3, description: "Accepted" },
  time: "0.01",
  memory: 1000,
  createdAt: new Date(Date.UTC(2026, 11, 4, 10, 0, n)).toISOString(),
  finishedAt: null,
  sourceCode: `print(${n})`,
  stdin: "",
  ...extra,
});

describe("the browser's history", () => {
  it("keeps a run's files and main file name, and drops an entry whose files are damaged", () => {
    const s = memoryStorage();
    const files = [{ name: "util.c", content: "void f(void) {}" }, { name: "run", content: "./main" }];
    addLocalHistory(s, item(1, { languageId: 89, sourceCode: "int main", files, mainName: "prog.c" }));
    expect(loadLocalHistory(s)[0]).toMatchObject({ files, mainName: "prog.c" });
    s.m.set("coderunner.history.v1", JSON.stringify([item(2, { files: [{ name: "../x", content: "" }] }), item(3, { mainName: "" }), item(4)]));
    expect(loadLocalHistory(s).map((i) => i.token)).toEqual(["t4"]);
  });
  it("keeps runs newest first, one per token", () => {
    const s = memoryStorage();
    expect(addLocalHistory(s, item(1))).toBe(true);
    addLocalHistory(s, item(2));
    addLocalHistory(s, item(1, { sourceCode: "again" }));
    expect(loadLocalHistory(s).map((i) => [i.token, i.sourceCode])).toEqual([
      ["t1", "again"],
      ["t2", "print(2)"],
    ]);
    removeLocalHistory(s, "t1");
    expect(loadLocalHistory(s).map((i) => i.token)).toEqual(["t2"]);
  });
  it("is bounded in count: the oldest go", () => {
    const s = memoryStorage();
    for (let i = 0; i < LOCAL_HISTORY_MAX_ITEMS + 5; i++) addLocalHistory(s, item(i));
    const all = loadLocalHistory(s);
    expect(all).toHaveLength(LOCAL_HISTORY_MAX_ITEMS);
    expect(all[0]!.token).toBe(`t${LOCAL_HISTORY_MAX_ITEMS + 4}`);
    expect(all[all.length - 1]!.token).toBe("t5");
  });
  it("is bounded in size: the oldest go, and a run too large alone is refused", () => {
    const s = memoryStorage();
    const big = "x".repeat(Math.floor(LOCAL_HISTORY_MAX_CHARS / 3));
    for (let i = 0; i < 4; i++) expect(addLocalHistory(s, item(i, { sourceCode: big }))).toBe(true);
    expect(s.m.get("coderunner.history.v1")!.length).toBeLessThanOrEqual(LOCAL_HISTORY_MAX_CHARS);
    expect(loadLocalHistory(s).map((i) => i.token)).toEqual(["t3", "t2"]);
    expect(addLocalHistory(s, item(9, { sourceCode: "y".repeat(LOCAL_HISTORY_MAX_CHARS) }))).toBe(false);
    expect(loadLocalHistory(s).map((i) => i.token)).toEqual(["t3", "t2"]);
  });
  it("reports storage that refuses", () => {
    const full = { getItem: () => null, setItem: () => { throw new Error("QuotaExceededError"); } };
    expect(addLocalHistory(full, item(1))).toBe(false);
  });
  it("ignores broken or hostile entries", () => {
    const s = memoryStorage();
    s.setItem("coderunner.history.v1", "{nope");
    expect(loadLocalHistory(s)).toEqual([]);
    s.setItem("coderunner.history.v1", JSON.stringify([item(1), { token: 1 }, { ...item(2), sourceCode: null }, null, { ...item(3), status: "x" }]));
    expect(loadLocalHistory(s).map((i) => i.token)).toEqual(["t1"]);
  });
  it("pages with the last token as cursor", async () => {
    const s = memoryStorage();
    for (let i = 0; i < 5; i++) addLocalHistory(s, item(i));
    const items = loadLocalHistory(s);
    const p1 = pageLocalHistory(items, null, 2);
    expect(p1).toEqual({ items: [items[0], items[1]], nextCursor: "t3" });
    const p2 = pageLocalHistory(items, p1.nextCursor, 2);
    expect(p2.items.map((i) => i.token)).toEqual(["t2", "t1"]);
    const p3 = pageLocalHistory(items, p2.nextCursor, 2);
    expect(p3).toEqual({ items: [items[4]], nextCursor: null });
    expect(pageLocalHistory(items, "gone", 2)).toEqual({ items: [], nextCursor: null });
    const src = browserHistory(() => s);
    expect((await src.page(null, 10)).items).toHaveLength(5);
    await src.remove("t4");
    expect((await src.page(null, 10)).items.map((i) => i.token)).toEqual(["t3", "t2", "t1", "t0"]);
  });
});

describe("the history panel's state", () => {
  it("loads a first page, appends more without repeats, removes", () => {
    let s = historyReducer(INITIAL_HISTORY, { type: "loading" });
    expect(s.loading).toBe(true);
    s = historyReducer(s, { type: "page", page: { items: [item(3), item(2)], nextCursor: "t2" }, append: false });
    expect(s).toMatchObject({ loading: false, loaded: true, cursor: "t2" });
    // A run recorded meanwhile shifts the server's pages: t2 comes again on the next one.
    s = historyReducer(s, { type: "page", page: { items: [item(2), item(1)], nextCursor: null }, append: true });
    expect(s.items.map((i) => i.token)).toEqual(["t3", "t2", "t1"]);
    expect(s.cursor).toBeNull();
    s = historyReducer(s, { type: "removed", token: "t2" });
    expect(s.items.map((i) => i.token)).toEqual(["t3", "t1"]);
    s = historyReducer(s, { type: "page", page: { items: [item(4)], nextCursor: "t4" }, append: false });
    expect(s.items.map((i) => i.token)).toEqual(["t4"]);
  });
  it("keeps what it has when a page fails", () => {
    let s = historyReducer(INITIAL_HISTORY, { type: "page", page: { items: [item(1)], nextCursor: "t1" }, append: false });
    s = historyReducer(historyReducer(s, { type: "loading" }), { type: "error", message: "gateway down" });
    expect(s).toMatchObject({ loading: false, error: "gateway down", cursor: "t1" });
    expect(s.items).toHaveLength(1);
    expect(historyReducer(s, { type: "reset" })).toEqual(INITIAL_HISTORY);
  });
  it("shows a result it saw finish until the gateway's history has it too", () => {
    const queued = item(1, { status: { id: 1, description: "In Queue" }, time: null });
    let s = historyReducer(INITIAL_HISTORY, { type: "finished", item: item(1, { status: { id: 5, description: "Time Limit Exceeded" }, time: "5.0" }) });
    s = historyReducer(s, { type: "page", page: { items: [queued, item(2, { status: { id: 2, description: "Processing" } })], nextCursor: null }, append: false });
    expect(s.items.map((i) => [i.token, i.status?.id, i.time])).toEqual([
      ["t1", 5, "5.0"],
      ["t2", 2, "0.01"],
    ]);
    // What the gateway says once it knows wins.
    s = historyReducer(s, { type: "page", page: { items: [item(1, { status: { id: 3, description: "Accepted" } })], nextCursor: null }, append: false });
    expect(s.items[0]!.status?.id).toBe(3);
    // Known results survive a change of person (reset) but only apply to their tokens.
    expect(historyReducer(s, { type: "reset" }).known).toHaveProperty("t1");
  });
});

describe("the files of the gateway's runs, kept in the browser", () => {
  const files = [{ name: "helper.py", content: "X = 1" }];
  function fakeGateway(items: HistoryItem[]) {
    const deleted: string[] = [];
    const gw = {
      history: async () => ({ items, nextCursor: null }),
      deleteHistory: async (t: string) => void deleted.push(t),
    } as unknown as GatewayClient;
    return { gw, deleted };
  }

  it("puts a run's files back into the gateway's items, and forgets them with the run", async () => {
    const s = memoryStorage();
    rememberRunFiles(s, "t1", { files, mainName: "prog.c" });
    rememberRunFiles(s, "t2", { files: [] });
    const { gw, deleted } = fakeGateway([item(1), item(2), item(3)]);
    const src = gatewayHistory(gw, () => s);
    const page = await src.page(null, 20);
    expect(page.items.map((i) => [i.token, i.files, i.mainName])).toEqual([
      ["t1", files, "prog.c"],
      ["t2", undefined, undefined],
      ["t3", undefined, undefined],
    ]);
    await src.remove("t1");
    expect(deleted).toEqual(["t1"]);
    expect((await src.page(null, 20)).items[0]!.files).toBeUndefined();
  });

  it("keeps the newest runs' files within its bounds, and ignores damaged entries", async () => {
    const s = memoryStorage();
    for (let n = 0; n < RUN_FILES_MAX_ITEMS + 5; n++) rememberRunFiles(s, `t${n}`, { files });
    const { gw } = fakeGateway([item(0), item(4), item(5), item(RUN_FILES_MAX_ITEMS + 4)]);
    const items = (await gatewayHistory(gw, () => s).page(null, 20)).items;
    expect(items.map((i) => !!i.files)).toEqual([false, false, true, true]);
    rememberRunFiles(s, "big", { files: [{ name: "big.txt", content: "x".repeat(600_000) }] });
    expect(JSON.parse(s.m.get("coderunner.runfiles.v1")!).map((e: { token: string }) => e.token)[0]).toBe(`t${RUN_FILES_MAX_ITEMS + 4}`);
    // Five runs of 150 000 characters: the three newest fit in 500 000.
    const s2 = memoryStorage();
    for (let n = 0; n < 5; n++) rememberRunFiles(s2, `b${n}`, { files: [{ name: "a.txt", content: "y".repeat(150_000) }] });
    expect(JSON.parse(s2.m.get("coderunner.runfiles.v1")!).map((e: { token: string }) => e.token)).toEqual(["b4", "b3", "b2"]);
    s.m.set("coderunner.runfiles.v1", JSON.stringify([{ token: "t0", files: [{ name: "../x", content: "" }] }, { token: "t4", files }]));
    const again = (await gatewayHistory(gw, () => s).page(null, 20)).items;
    expect(again.map((i) => !!i.files)).toEqual([false, true, false, false]);
  });
});
