// How the operator's client configuration (GET /client-config on the gateway) shapes the
// page: which languages are offered, which one a new visitor starts with, and the editor's
// defaults, which apply to every setting the visitor has not chosen themselves.

import type { ClientConfig } from "./gateway";
import type { Language } from "./judge0";
import type { Settings } from "./storage";
import { defaultLanguageId } from "./templates";

/** The languages to offer: the configured ones, in the server's order; all if none of them exist. */
export function offeredLanguages(all: Language[], cfg: ClientConfig): Language[] {
  if (!cfg.languages) return all;
  const allowed = new Set(cfg.languages);
  const some = all.filter((l) => allowed.has(l.id));
  return some.length > 0 ? some : all;
}

/** The language a visitor without a saved choice starts with. */
export function startLanguage(offered: Language[], cfg: ClientConfig): number | undefined {
  if (cfg.defaultLanguageId !== null && offered.some((l) => l.id === cfg.defaultLanguageId)) return cfg.defaultLanguageId;
  return defaultLanguageId(offered);
}

/** The settings in effect: the visitor's where they chose, else the operator's, else ours. */
export function effectiveSettings(s: Settings, cfg: ClientConfig): Settings {
  const chosen = new Set(s.chosen);
  const e = cfg.editor;
  return {
    ...s,
    theme: !chosen.has("theme") && e.theme ? e.theme : s.theme,
    vim: !chosen.has("vim") && e.keymap ? e.keymap === "vim" : s.vim,
    tabSize: !chosen.has("tabSize") && e.tabSize ? e.tabSize : s.tabSize,
  };
}
