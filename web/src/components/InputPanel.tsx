"use client";

import type { TestCase } from "@/lib/judge0";
import { buttonClass, inputClass } from "./ui";

interface Props {
  mode: "stdin" | "tests";
  onMode: (m: "stdin" | "tests") => void;
  stdin: string;
  onStdin: (s: string) => void;
  tests: TestCase[];
  onTest: (i: number, patch: Partial<TestCase>) => void;
  onAddTest: () => void;
  onRemoveTest: (i: number) => void;
  args: string;
  onArgs: (s: string) => void;
  compilerOptions: string;
  onCompilerOptions: (s: string) => void;
  /** The current language's name: compiler options are kept per language. */
  languageName: string;
  /** Embedded (?embed=1): standard input only; arguments and options only when they are set (they still go with the run). */
  embed?: boolean;
}

/** Standard input or test cases, command-line arguments, compiler options. */
export default function InputPanel(p: Props) {
  return (
    <>
      <fieldset className={p.embed ? "hidden" : "mb-2 flex gap-4 text-sm"}>
        <legend className="sr-only">Input mode</legend>
        <label className="flex items-center gap-1">
          <input type="radio" name="mode" checked={p.mode === "stdin"} onChange={() => p.onMode("stdin")} /> Standard input
        </label>
        <label className="flex items-center gap-1">
          <input type="radio" name="mode" checked={p.mode === "tests"} onChange={() => p.onMode("tests")} data-testid="mode-tests" /> Test cases
          {p.tests.length > 0 ? ` (${p.tests.length})` : ""}
        </label>
      </fieldset>

      {p.mode === "stdin" ? (
        <div>
          <label htmlFor="stdin" className="sr-only">
            Standard input
          </label>
          <textarea
            id="stdin"
            data-testid="stdin"
            className={`${inputClass} h-24 resize-y`}
            placeholder="Standard input"
            value={p.stdin}
            onChange={(e) => p.onStdin(e.target.value)}
            spellCheck={false}
          />
        </div>
      ) : (
        <div className="space-y-2">
          {p.tests.length === 0 && (
            <p className="text-sm text-slate-600 dark:text-slate-400">No test cases yet. Add one: each runs with its input and is compared with its expected output.</p>
          )}
          {p.tests.map((t, i) => (
            <fieldset key={i} className="rounded border border-slate-200 p-2 dark:border-slate-700">
              <legend className="px-1 text-xs font-semibold">Test {i + 1}</legend>
              <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
                <div>
                  <label htmlFor={`test-${i}-in`} className="text-xs">
                    Input
                  </label>
                  <textarea
                    id={`test-${i}-in`}
                    data-testid={`test-${i}-in`}
                    className={`${inputClass} h-16 resize-y`}
                    value={t.stdin}
                    onChange={(e) => p.onTest(i, { stdin: e.target.value })}
                    spellCheck={false}
                  />
                </div>
                <div>
                  <label htmlFor={`test-${i}-out`} className="text-xs">
                    Expected output
                  </label>
                  <textarea
                    id={`test-${i}-out`}
                    data-testid={`test-${i}-out`}
                    className={`${inputClass} h-16 resize-y`}
                    value={t.expected_output}
                    onChange={(e) => p.onTest(i, { expected_output: e.target.value })}
                    spellCheck={false}
                  />
                </div>
              </div>
              <button type="button" className="mt-1 text-xs text-red-700 underline dark:text-red-300" onClick={() => p.onRemoveTest(i)}>
                Remove test {i + 1}
              </button>
            </fieldset>
          ))}
          <button type="button" data-testid="add-test" className={buttonClass} onClick={p.onAddTest}>
            Add test case
          </button>
        </div>
      )}

      <div className={p.embed && !p.args && !p.compilerOptions ? "hidden" : "mt-3 grid grid-cols-1 gap-2 sm:grid-cols-2"}>
        <div>
          <label htmlFor="args" className="text-xs font-medium">
            Command-line arguments
          </label>
          <input id="args" className={inputClass} value={p.args} onChange={(e) => p.onArgs(e.target.value)} spellCheck={false} />
        </div>
        <div>
          <label htmlFor="copts" className="text-xs font-medium">
            Compiler options{p.languageName ? ` for ${p.languageName}` : ""}
          </label>
          <input
            id="copts"
            data-testid="copts"
            className={inputClass}
            value={p.compilerOptions}
            onChange={(e) => p.onCompilerOptions(e.target.value)}
            placeholder="e.g. -O2 -Wall"
            spellCheck={false}
          />
        </div>
      </div>
    </>
  );
}
