// Class names shared by the page's controls.
export const inputClass =
  "w-full rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm focus:outline-none focus:ring-2 focus:ring-sky-500 dark:border-slate-600 dark:bg-slate-900";
export const buttonClass =
  "rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-sky-500 disabled:opacity-50 dark:border-slate-600 dark:hover:bg-slate-800";
