// Expected vs actual output, line by line, for a Wrong Answer: the lines both have, the
// lines only expected, the lines only produced. A longest-common-subsequence diff, bounded:
// past MAX_DIFF_LINES lines on a side it shows the first difference only, so a huge output
// cannot stall the page.

export type DiffLine = { kind: "same" | "expected" | "actual"; text: string };

export const MAX_DIFF_LINES = 400;

function lines(s: string): string[] {
  const l = s.split("\n");
  if (l.length > 1 && l[l.length - 1] === "") l.pop();
  return l;
}

export interface OutputDiff {
  lines: DiffLine[];
  /** True when the outputs were too long for a full diff: `lines` holds the first difference. */
  truncated: boolean;
}

export function diffOutputs(expected: string, actual: string): OutputDiff {
  const a = lines(expected);
  const b = lines(actual);
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const out: DiffLine[] = [];
    if (i < a.length) out.push({ kind: "expected", text: a[i]! });
    if (i < b.length) out.push({ kind: "actual", text: b[i]! });
    return { lines: out, truncated: true };
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: "same", text: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ kind: "expected", text: a[i++]! });
    } else {
      out.push({ kind: "actual", text: b[j++]! });
    }
  }
  return { lines: out, truncated: false };
}
