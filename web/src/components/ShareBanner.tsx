"use client";

import type { ShareState } from "@/hooks/useShareLink";
import { TONE_CLASSES } from "@/lib/verdict";
import { buttonClass } from "./ui";

interface Props {
  share: ShareState;
  /** The language's name on this server, for the question. */
  languageName: (id: number, fallback?: string) => string;
  canGoBack: boolean;
  onAccept: () => void;
  onDismiss: () => void;
  onBack: () => void;
}

/** What a share link did or asks: open it over the user's work, it was opened, or it is broken. */
export default function ShareBanner({ share, languageName, canGoBack, onAccept, onDismiss, onBack }: Props) {
  if (share.kind === "none") return null;
  if (share.kind === "broken")
    return (
      <div role="alert" data-testid="share-broken" className={`flex flex-wrap items-center gap-2 border-b border-l-4 px-3 py-2 text-sm ${TONE_CLASSES.wrong}`}>
        <span>
          <strong>This share link cannot be opened:</strong> {share.reason}. Your own code is unchanged.
        </span>
        <button type="button" className={buttonClass} onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    );
  const lang = languageName(share.program.languageId, share.program.languageName);
  const n = share.program.files?.length ?? 0;
  const files = n ? ` with ${n} more file${n > 1 ? "s" : ""}` : "";
  if (share.kind === "ask")
    return (
      <div role="alertdialog" aria-labelledby="share-ask" data-testid="share-ask" className={`flex flex-wrap items-center gap-2 border-b border-l-4 px-3 py-2 text-sm ${TONE_CLASSES.pending}`}>
        <span id="share-ask">
          This link holds a {lang} program{files}. Opening it replaces what is in your editor; your code is kept and <em>Back to my code</em> brings it
          back.
        </span>
        <button type="button" className={buttonClass} onClick={onAccept} data-testid="share-open">
          Open the shared program
        </button>
        <button type="button" className={buttonClass} onClick={onDismiss} data-testid="share-keep">
          Keep my code
        </button>
      </div>
    );
  return (
    <div role="status" data-testid="share-opened" className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-3 py-2 text-sm dark:border-slate-800">
      <span>
        Opened the shared {lang} program{files}.
      </span>
      {canGoBack && (
        <button type="button" className={buttonClass} onClick={onBack} data-testid="back-to-mine">
          Back to my code
        </button>
      )}
      <button type="button" className={buttonClass} onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
