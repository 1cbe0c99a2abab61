"use client";

/** The operator's notice from the client configuration (plain text). */
export default function NoticeBanner({ notice }: { notice: string | null }) {
  if (!notice) return null;
  return (
    <div role="note" data-testid="notice" className="border-b border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
      {notice}
    </div>
  );
}
