import { describe, expect, it } from "vitest";
import { MAX_DIFF_LINES, diffOutputs } from "./diff";

describe("expected vs actual", () => {
  it("marks the lines only expected and only produced", () => {
    expect(diffOutputs("1\n2\n3\n", "1\n5\n3\n").lines).toEqual([
      { kind: "same", text: "1" },
      { kind: "expected", text: "2" },
      { kind: "actual", text: "5" },
      { kind: "same", text: "3" },
    ]);
  });
  it("shows a missing and an extra line", () => {
    expect(diffOutputs("a\nb\n", "a\n").lines).toEqual([
      { kind: "same", text: "a" },
      { kind: "expected", text: "b" },
    ]);
    expect(diffOutputs("a\n", "a\nextra\n").lines).toEqual([
      { kind: "same", text: "a" },
      { kind: "actual", text: "extra" },
    ]);
    expect(diffOutputs("", "x").lines).toEqual([
      { kind: "expected", text: "" },
      { kind: "actual", text: "x" },
    ]);
  });
  it("shows only the first difference of huge outputs", () => {
    const big = Array.from({ length: MAX_DIFF_LINES + 10 }, (_, i) => String(i));
    const other = [...big];
    other[MAX_DIFF_LINES + 5] = "oops";
    expect(diffOutputs(big.join("\n"), other.join("\n"))).toEqual({
      lines: [
        { kind: "expected", text: String(MAX_DIFF_LINES + 5) },
        { kind: "actual", text: "oops" },
      ],
      truncated: true,
    });
  });
});
