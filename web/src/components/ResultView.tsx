"use client";

import type { SubmissionResult, TestCase, TestResult } from "@/lib/judge0";
import { diffOutputs } from "@/lib/diff";
import { TONE_CLASSES, formatMemory, formatTime, plainVerdict, signalName, toneOf } from "@/lib/verdict";

function Pane({ title, text, id }: { title: string; text: string | null; id: string }) {
  if (text === null || text === "") return null;
  return (
    <section aria-labelledby={`${id}-title`} className="mt-3">
      <h3 id={`${id}-title`} className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">
        {title}
      </h3>
      <pre
        data-testid={id}
        tabIndex={0}
        className="max-h-72 overflow-auto whitespace-pre-wrap break-words rounded border border-slate-300 bg-slate-50 p-2 font-mono text-sm dark:border-slate-700 dark:bg-slate-900"
      >
        {text}
      </pre>
    </section>
  );
}

function exitText(r: { exit_code: number | null; exit_signal: number | null }): string {
  if (r.exit_signal !== null) return `signal ${signalName(r.exit_signal)}`;
  if (r.exit_code !== null) return String(r.exit_code);
  return "—";
}

export function Verdict({ result }: { result: SubmissionResult }) {
  const tone = toneOf(result.status, result.memory_limit_exceeded);
  const plain = plainVerdict(result.status, result.memory_limit_exceeded, result.exit_code);
  return (
    <div className={`rounded border-l-4 p-3 ${TONE_CLASSES[tone]}`} data-testid="verdict" data-status-id={result.status.id}>
      <p className="text-lg font-semibold" data-testid="verdict-plain">
        {plain.title}
      </p>
      <p className="text-xs" data-testid="verdict-technical">
        Status: {plain.technical}
      </p>
      <dl className="mt-1 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
        <div>
          <dt className="inline font-medium">Time: </dt>
          <dd className="inline">{formatTime(result.time)}</dd>
        </div>
        <div>
          <dt className="inline font-medium">Wall: </dt>
          <dd className="inline">{formatTime(result.wall_time)}</dd>
        </div>
        <div>
          <dt className="inline font-medium">Memory: </dt>
          <dd className="inline">{formatMemory(result.memory)}</dd>
        </div>
        {/* With test cases, each test has its own exit code (in its details); one overall would mislead. */}
        {!result.tests && (
          <div>
            <dt className="inline font-medium">Exit code: </dt>
            <dd className="inline">{exitText(result)}</dd>
          </div>
        )}
      </dl>
    </div>
  );
}

const DIFF_CLASSES = {
  same: "",
  expected: "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200",
  actual: "bg-green-100 text-green-900 dark:bg-green-950 dark:text-green-200",
};
const DIFF_MARK = { same: "  ", expected: "- ", actual: "+ " };

/** A Wrong Answer's expected output against the program's, line by line. */
function OutputDiffView({ index, expected, actual }: { index: number; expected: string; actual: string }) {
  const d = diffOutputs(expected, actual);
  return (
    <div data-testid={`diff-${index}`}>
      <span className="font-semibold">difference: − expected, + your output</span>
      <pre className="max-h-40 overflow-auto whitespace-pre-wrap break-words rounded bg-slate-100 p-1 font-mono dark:bg-slate-900">
        {d.lines.map((l, i) => (
          <span key={i} className={`block ${DIFF_CLASSES[l.kind]}`}>
            {DIFF_MARK[l.kind]}
            {l.text}
          </span>
        ))}
      </pre>
      {d.truncated && <p>The outputs are too long to compare in full: this is their first difference.</p>}
    </div>
  );
}

function TestRow({ index, t, input }: { index: number; t: TestResult; input: TestCase | undefined }) {
  const tone = toneOf(t.status, t.memory_limit_exceeded);
  const plain = plainVerdict(t.status, t.memory_limit_exceeded, t.exit_code);
  const expected = t.expected_output ?? input?.expected_output ?? null;
  const stdin = t.stdin ?? input?.stdin ?? null;
  return (
    <tr className="border-t border-slate-200 align-top dark:border-slate-700">
      <td className="px-2 py-1 font-mono">{index + 1}</td>
      <td className="px-2 py-1">
        <span className={`inline-block rounded border px-1.5 py-0.5 text-xs font-semibold ${TONE_CLASSES[tone]}`} title={plain.title}>
          {plain.short}
        </span>
        <span className="block text-xs text-slate-600 dark:text-slate-400">{plain.technical}</span>
      </td>
      <td className="px-2 py-1 whitespace-nowrap">{formatTime(t.time)}</td>
      <td className="px-2 py-1 whitespace-nowrap">{formatMemory(t.memory)}</td>
      <td className="px-2 py-1">
        {t.status ? (
          <details>
            <summary className="cursor-pointer text-sky-700 underline dark:text-sky-300">Details</summary>
            <div className="mt-1 space-y-1 text-xs">
              <p>Exit code: {exitText(t)}</p>
              {t.status.id === 4 && expected !== null && <OutputDiffView index={index} expected={expected} actual={t.stdout ?? ""} />}
              {[
                ["stdin", stdin],
                ["expected", expected],
                ["stdout", t.stdout],
                ["stderr", t.stderr],
                ["message", t.message],
              ].map(([label, text]) =>
                text ? (
                  <div key={label}>
                    <span className="font-semibold">{label}</span>
                    <pre className="max-h-40 overflow-auto whitespace-pre-wrap break-words rounded bg-slate-100 p-1 font-mono dark:bg-slate-900">{text}</pre>
                  </div>
                ) : null,
              )}
            </div>
          </details>
        ) : (
          <span className="text-slate-500">not run</span>
        )}
      </td>
    </tr>
  );
}

export default function ResultView({ result, tests }: { result: SubmissionResult; tests: TestCase[] | null }) {
  const passed = result.tests?.filter((t) => t.status?.id === 3).length ?? 0;
  return (
    <div>
      <Verdict result={result} />
      {result.tests && (
        <section aria-labelledby="tests-title" className="mt-3">
          <h3 id="tests-title" className="text-sm font-semibold">
            Test cases: {passed} of {result.tests.length} passed
          </h3>
          <div className="overflow-x-auto">
            <table className="mt-1 w-full text-left text-sm" data-testid="tests-table">
              <thead>
                <tr className="text-xs uppercase text-slate-600 dark:text-slate-400">
                  <th scope="col" className="px-2 py-1">#</th>
                  <th scope="col" className="px-2 py-1">Verdict</th>
                  <th scope="col" className="px-2 py-1">Time</th>
                  <th scope="col" className="px-2 py-1">Memory</th>
                  <th scope="col" className="px-2 py-1">Output</th>
                </tr>
              </thead>
              <tbody>
                {result.tests.map((t, i) => (
                  <TestRow key={i} index={i} t={t} input={tests?.[i]} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <Pane id="compile-output" title="Compile output" text={result.compile_output} />
      {!result.tests && <Pane id="stdout" title="Standard output" text={result.stdout} />}
      {!result.tests && <Pane id="stderr" title="Standard error" text={result.stderr} />}
      <Pane id="message" title="Message" text={result.message} />
      {!result.tests && !result.stdout && !result.stderr && !result.compile_output && (
        <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">The program wrote nothing.</p>
      )}
    </div>
  );
}
