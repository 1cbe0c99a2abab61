import { describe, expect, it } from "vitest";
import { SPLIT_DEFAULT, SPLIT_MAX, SPLIT_MIN, clampSplit, loadSplit, saveSplit, splitAfterKey } from "./split";

describe("split", () => {
  it("moves by keys within bounds", () => {
    expect(splitAfterKey(50, "ArrowLeft")).toBe(45);
    expect(splitAfterKey(50, "ArrowRight")).toBe(55);
    expect(splitAfterKey(SPLIT_MIN, "ArrowLeft")).toBe(SPLIT_MIN);
    expect(splitAfterKey(SPLIT_MAX, "PageUp")).toBe(SPLIT_MAX);
    expect(splitAfterKey(60, "Home")).toBe(SPLIT_MIN);
    expect(splitAfterKey(30, "End")).toBe(SPLIT_MAX);
    expect(splitAfterKey(30, "Enter")).toBe(SPLIT_DEFAULT);
    expect(splitAfterKey(50, "a")).toBeNull();
  });
  it("keeps a sane value from storage", () => {
    const store = new Map<string, string>();
    const s = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadSplit(s)).toBe(SPLIT_DEFAULT);
    saveSplit(s, 61.6);
    expect(loadSplit(s)).toBe(62);
    store.set("coderunner.split", "junk");
    expect(loadSplit(s)).toBe(SPLIT_DEFAULT);
    store.set("coderunner.split", "5");
    expect(loadSplit(s)).toBe(SPLIT_MIN);
    expect(clampSplit(Infinity)).toBe(SPLIT_DEFAULT);
  });
});
