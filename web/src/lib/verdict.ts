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

export interface PlainVerdict {
  /** What happened, in words anyone understands. */
  title: string;
  /** A short form for a table cell. */
  short: string;
  /** The technical name (Judge0's status, with the memory-limit flag), shown as detail. */
  technical: string;
}

// By Judge0 status id: what a person who is not a judge-system expert would say.
const PLAIN: Record<number, [title: string, short: string]> = {
  1: ["Waiting to run", "Waiting"],
  2: ["Running", "Running"],
  3: ["Ran successfully", "Passed"],
  4: ["The output is not the expected output", "Wrong output"],
  5: ["Took too long: stopped at the time limit", "Too slow"],
  6: ["Did not compile: see the compiler's messages", "Did not compile"],
  7: ["Crashed: the program accessed memory it does not own (segmentation fault)", "Crashed"],
  8: ["Stopped: the program wrote more output than allowed", "Too much output"],
  9: ["Crashed: an arithmetic error, such as a division by zero", "Crashed"],
  10: ["Crashed: the program aborted (a failed assertion, or an uncaught exception)", "Crashed"],
  11: ["The program ended with an error (a non-zero exit code)", "Error exit"],
  12: ["The program crashed", "Crashed"],
  13: ["The server could not run it (not a fault of the program): try again", "Server error"],
  14: ["The program could not be started (not an executable)", "Not runnable"],
};

/** The verdict in plain language, with the technical name as detail. */
export function plainVerdict(status: Status | null, memoryLimitExceeded = false, exitCode: number | null = null): PlainVerdict {
  if (!status) return { title: "Not run", short: "Not run", technical: "Skipped" };
  const technical = memoryLimitExceeded ? `${status.description} — memory limit exceeded` : status.description;
  if (memoryLimitExceeded) return { title: "Stopped: the program used more memory than allowed", short: "Out of memory", technical };
  const known = PLAIN[status.id];
  if (!known) return { title: status.description, short: status.description, technical };
  const [title, short] = known;
  if (status.id === 11 && exitCode !== null) return { title: `The program ended with an error (exit code ${exitCode})`, short, technical };
  return { title, short, technical };
}
