"use client";

import type { Settings } from "@/lib/storage";
import { inputClass } from "./ui";

/**
 * The page's settings; `settings` are the ones in effect (the operator's defaults included).
 * `askApiKey`: only without the cluster proxy, which sends no browser's key on.
 */
export default function SettingsPanel({
  settings,
  onChange,
  askApiKey,
}: {
  settings: Settings;
  onChange: (patch: Partial<Settings>) => void;
  askApiKey: boolean;
}) {
  const num = (min: number, max: number, key: "fontSize" | "timeoutSeconds" | "tabSize") => (e: React.ChangeEvent<HTMLInputElement>) => {
    const n = Number(e.target.value);
    if (Number.isInteger(n) && n >= min && n <= max) onChange({ [key]: n });
  };
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer rounded font-medium focus:outline-none focus:ring-2 focus:ring-sky-500">Settings</summary>
      <div className="mt-2 flex flex-wrap items-center gap-4">
        <label className="flex items-center gap-1">
          <input type="checkbox" checked={settings.vim} onChange={(e) => onChange({ vim: e.target.checked })} data-testid="vim" /> Vim keys
        </label>
        <label className="flex items-center gap-1">
          Font size
          <input type="number" min={10} max={28} className={`${inputClass} w-16`} value={settings.fontSize} onChange={num(10, 28, "fontSize")} />
        </label>
        <label className="flex items-center gap-1">
          Tab size
          <input type="number" min={1} max={16} className={`${inputClass} w-16`} value={settings.tabSize} onChange={num(1, 16, "tabSize")} data-testid="tab-size" />
        </label>
        <label className="flex items-center gap-1">
          Give up after (s)
          <input type="number" min={5} max={3600} className={`${inputClass} w-20`} value={settings.timeoutSeconds} onChange={num(5, 3600, "timeoutSeconds")} />
        </label>
        <label className="flex items-center gap-1">
          <input type="checkbox" checked={settings.wait} onChange={(e) => onChange({ wait: e.target.checked })} /> One request (wait=true) instead of polling
        </label>
        {askApiKey && (
          <label className="flex items-center gap-1">
            API key (X-Auth-Token, only if the server asks for one)
            <input type="password" autoComplete="off" className={`${inputClass} w-40`} value={settings.apiKey} onChange={(e) => onChange({ apiKey: e.target.value })} />
          </label>
        )}
      </div>
    </details>
  );
}
