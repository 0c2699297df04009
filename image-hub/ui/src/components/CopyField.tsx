/** @jsxRuntime automatic */
// A read-only command with a Copy button. A failed copy is reported, not ignored: clipboard access
// is refused on plain-HTTP origins other than localhost, so the user may need to copy by hand.
import { useId, useState } from "react";

/** Props: a visible label and the exact text to copy. */
export interface CopyFieldProps {
  label: string;
  text: string;
}

/** Renders the command and a Copy button with a live status message. */
export function CopyField({ label, text }: CopyFieldProps) {
  const id = useId();
  const [status, setStatus] = useState("");
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("the clipboard is not available on this page");
      await navigator.clipboard.writeText(text);
      setStatus("Copied.");
    } catch (err) {
      setStatus(`Could not copy (${err instanceof Error ? err.message : String(err)}); select the command and copy it yourself.`);
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={text} onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
        <button type="button" onClick={copy} aria-describedby={`${id}-status`}>
          Copy
        </button>
      </div>
      <p id={`${id}-status`} className="copy-status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
