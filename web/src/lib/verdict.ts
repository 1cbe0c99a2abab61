// How a status looks: a colour per kind of verdict.
import type { Status } from "./judge0";

export type Tone = "ok" | "wrong" | "limit" | "compile" | "runtime" | "internal" | "pending";

export function toneOf(status: Status | null | undefined, memoryLimitExceeded = false): Tone {
  if (!status) return "pending";
  if (memoryLimitExceeded) return "limit";
  switch (status.id) {
    case 1:
    case 2:
      return "pending";
    case 3:
      return "ok";
    case 4:
      return "wrong";
    case 5:
      return "limit";
    case 6:
      return "compile";
    case 13:
    case 14:
      return "internal";
    default:
      return "runtime";
  }
}

export const TONE_CLASSES: Record<Tone, string> = {
  ok: "bg-green-100 text-green-900 border-green-600 dark:bg-green-950 dark:text-green-200 dark:border-green-500",
  wrong: "bg-red-100 text-red-900 border-red-600 dark:bg-red-950 dark:text-red-200 dark:border-red-500",
  limit: "bg-amber-100 text-amber-900 border-amber-600 dark:bg-amber-950 dark:text-amber-200 dark:border-amber-500",
  compile: "bg-orange-100 text-orange-900 border-orange-600 dark:bg-orange-950 dark:text-orange-200 dark:border-orange-500",
  runtime: "bg-rose-100 text-rose-900 border-rose-600 dark:bg-rose-950 dark:text-rose-200 dark:border-rose-500",
  internal: "bg-purple-100 text-purple-900 border-purple-600 dark:bg-purple-950 dark:text-purple-200 dark:border-purple-500",
  pending: "bg-sky-100 text-sky-900 border-sky-600 dark:bg-sky-950 dark:text-sky-200 dark:border-sky-500",
};

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  31: "SIGSYS",
};

export function signalName(n: number): string {
  return SIGNALS[n] ? `${n} (${SIGNALS[n]})` : String(n);
}

export function formatTime(t: string | null): string {
  return t === null ? "—" : `${t} s`;
}

export function formatMemory(kb: number | null): string {
  if (kb === null) return "—";
  return kb >= 10_240 ? `${(kb / 1024).toFixed(1)} MiB` : `${kb} KiB`;
}
