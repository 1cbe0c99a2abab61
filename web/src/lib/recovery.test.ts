import { describe, expect, it } from "vitest";
import { PENDING_MAX_AGE_MS, clearPending, loadPending, savePending, type PendingRun } from "./recovery";

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    map: m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

const run: PendingRun = {
  token: "0b1c2d3e-aaaa-bbbb-cccc-000000000001",
  languageId: 71,
  sourceCode: "print(1)\n",
  stdin: "Ada",
  tests: null,
  createdAt: "2026-12-04T20:00:00.000Z",
  startedMs: 1_000_000,
};

describe("the run kept over a reload", () => {
  it("round-trips, test cases included", () => {
    const s = memoryStorage();
    expect(savePending(s, run)).toBe(true);
    expect(loadPending(s, run.startedMs + 5_000)).toEqual(run);
    const withTests = { ...run, stdin: null, tests: [{ stdin: "1 2", expected_output: "3" }] };
    savePending(s, withTests);
    expect(loadPending(s, run.startedMs)).toEqual(withTests);
    const withFiles = { ...run, files: [{ name: "util.py", content: "x = 1\n" }, { name: "data.bin", content: "AAE=", binary: true }], mainName: "main.py" };
    savePending(s, withFiles);
    expect(loadPending(s, run.startedMs)).toEqual(withFiles);
  });

  it("drops a stale, future-dated, broken or tampered entry", () => {
    const s = memoryStorage();
    savePending(s, run);
    expect(loadPending(s, run.startedMs + PENDING_MAX_AGE_MS)).toBeNull();
    expect(s.map.size).toBe(0);
    savePending(s, run);
    expect(loadPending(s, run.startedMs - 3_600_000)).toBeNull();
    for (const bad of ["{", "null", "[]", JSON.stringify({ ...run, token: "../admin" }), JSON.stringify({ ...run, tests: [{ stdin: 1 }] }), JSON.stringify({ ...run, startedMs: "x" }), JSON.stringify({ ...run, files: [{ name: "a" }] }), JSON.stringify({ ...run, mainName: 3 })]) {
      s.map.set("coderunner.pending-run.v1", bad);
      expect(loadPending(s, run.startedMs)).toBeNull();
      expect(s.map.size).toBe(0);
    }
  });

  it("clears only the run named, so a late result does not forget a newer run", () => {
    const s = memoryStorage();
    savePending(s, run);
    clearPending(s, "another-token");
    expect(loadPending(s, run.startedMs)).not.toBeNull();
    clearPending(s, run.token);
    expect(loadPending(s, run.startedMs)).toBeNull();
    savePending(s, run);
    clearPending(s);
    expect(s.map.size).toBe(0);
  });

  it("says when the browser would not keep it, and never throws", () => {
    const full = { getItem: () => null, setItem: () => { throw new Error("QuotaExceededError"); }, removeItem: () => { throw new Error("denied"); } };
    expect(savePending(full, run)).toBe(false);
    expect(savePending(undefined, run)).toBe(false);
    expect(loadPending(undefined, 0)).toBeNull();
    expect(() => clearPending(full)).not.toThrow();
  });
});
