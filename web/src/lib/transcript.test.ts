import { describe, expect, it } from "vitest";
import { EMPTY_TRANSCRIPT, append, plainText } from "./transcript";

describe("the terminal's transcript", () => {
  it("keeps output and input in order, merging runs of one kind", () => {
    let t = append(EMPTY_TRANSCRIPT, "stdout", "name? ");
    t = append(t, "stdin", "Ada\n");
    t = append(t, "stdout", "hello ");
    t = append(t, "stdout", "Ada\n");
    t = append(t, "stderr", "warn\n");
    t = append(t, "stdout", "");
    expect(t.chunks).toEqual([
      { kind: "stdout", text: "name? " },
      { kind: "stdin", text: "Ada\n" },
      { kind: "stdout", text: "hello Ada\n" },
      { kind: "stderr", text: "warn\n" },
    ]);
    expect(plainText(t)).toBe("name? Ada\nhello Ada\nwarn\n");
    expect(t.size).toBe(plainText(t).length);
  });

  it("drops the oldest text past the bound and counts it", () => {
    let t = append(EMPTY_TRANSCRIPT, "stdout", "aaaa", 10);
    t = append(t, "stdin", "bbbb", 10);
    t = append(t, "stdout", "cccccc", 10);
    expect(plainText(t)).toBe("bbbbcccccc");
    expect(t.dropped).toBe(4);
    t = append(t, "stderr", "dd", 10);
    expect(plainText(t)).toBe("bbcccccc" + "dd");
    expect(t.chunks[0]).toEqual({ kind: "stdin", text: "bb" });
    expect(t.dropped).toBe(6);
    t = append(t, "stdout", "x".repeat(25), 10);
    expect(plainText(t)).toBe("x".repeat(10));
    expect(t.size).toBe(10);
    expect(t.dropped).toBe(6 + 10 + 15);
  });
});
