"use client";

/** Normal runs (input given up front, the verdict at the end) or interactive ones (a terminal). A switch, keyboard operable (Space). */
export default function InteractiveToggle({ on, onChange, disabled }: { on: boolean; onChange: (on: boolean) => void; disabled: boolean }) {
  return (
    <label className="flex items-center gap-2 text-sm" title="Run in a terminal: see output as it is printed and type the program's input">
      <input
        type="checkbox"
        role="switch"
        aria-checked={on}
        data-testid="interactive-toggle"
        className="h-4 w-4 accent-sky-700 focus:outline-none focus:ring-2 focus:ring-sky-500"
        checked={on}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
      />
      Interactive (terminal)
    </label>
  );
}
