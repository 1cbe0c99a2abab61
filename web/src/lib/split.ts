// The split between the editor and the input/result panes: the editor's share of the
// width in percent, kept in the browser, moved by pointer or keyboard within bounds.

export const SPLIT_MIN = 25;
export const SPLIT_MAX = 75;
export const SPLIT_DEFAULT = 50;
const KEY = "coderunner.split";

export function clampSplit(p: number): number {
  if (!Number.isFinite(p)) return SPLIT_DEFAULT;
  return Math.min(SPLIT_MAX, Math.max(SPLIT_MIN, Math.round(p)));
}

/** The new split after a key on the separator, or null when the key is not the separator's. */
export function splitAfterKey(p: number, key: string): number | null {
  switch (key) {
    case "ArrowLeft":
    case "ArrowDown":
      return clampSplit(p - 5);
    case "ArrowRight":
    case "ArrowUp":
      return clampSplit(p + 5);
    case "PageDown":
      return clampSplit(p - 20);
    case "PageUp":
      return clampSplit(p + 20);
    case "Home":
      return SPLIT_MIN;
    case "End":
      return SPLIT_MAX;
    case "Enter":
      return SPLIT_DEFAULT;
    default:
      return null;
  }
}

export function loadSplit(storage: Pick<Storage, "getItem">): number {
  const v = storage.getItem(KEY);
  return v === null ? SPLIT_DEFAULT : clampSplit(Number(v));
}

export function saveSplit(storage: Pick<Storage, "setItem">, p: number): void {
  try {
    storage.setItem(KEY, String(clampSplit(p)));
  } catch {
    /* storage full or refused: the split just is not kept */
  }
}
