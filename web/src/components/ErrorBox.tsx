"use client";

import type { ApiError } from "@/lib/judge0";
import { TONE_CLASSES } from "@/lib/verdict";
import { buttonClass } from "./ui";

export default function ErrorBox({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div role="alert" data-testid="error" className={`rounded border-l-4 p-3 text-sm ${TONE_CLASSES.wrong}`}>
      <p className="font-semibold">
        {
          {
            network: "The API cannot be reached",
            validation: "The submission was refused",
            rate_limited: "Too many requests",
            unavailable: "The server is busy",
            unauthorized: "Not allowed",
            bad_request: "Bad request",
            not_found: "Not found",
            server: "Server error",
            timeout: "No result in time",
            aborted: "Cancelled",
          }[error.kind]
        }
      </p>
      {error.fieldErrors && Object.keys(error.fieldErrors).length > 0 ? (
        <ul className="mt-1 list-disc pl-5">
          {Object.entries(error.fieldErrors).map(([field, msgs]) => (
            <li key={field}>
              <code className="font-mono">{field}</code>: {msgs.join("; ")}
            </li>
          ))}
        </ul>
      ) : (
        <p className="mt-1">{error.message}</p>
      )}
      {onRetry && (
        <button type="button" className={`${buttonClass} mt-2`} onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
