// The inline "File name" box for creating and renaming: Enter submits, Escape or leaving it
// cancels, and the server's refusal shows underneath while the box stays open.
import { useEffect, useId, useRef, useState } from 'react';

export function NameInput({
  initial = '',
  selectStem = false,
  onSubmit,
  onCancel,
}: {
  initial?: string;
  /** Select the name without its extension (renaming a file), else everything. */
  selectStem?: boolean;
  /** Resolves when done; a rejection's message is shown under the box. */
  onSubmit: (name: string) => Promise<void>;
  /** escape: the user backed out with Escape (focus should go back); blur: they moved on. */
  onCancel: (how: 'escape' | 'blur') => void;
}) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const errorId = useId();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    const dot = initial.lastIndexOf('.');
    el.setSelectionRange(0, selectStem && dot > 0 ? dot : initial.length);
  }, [initial, selectStem]);

  const submit = async () => {
    const name = value.trim();
    if (!name || name === initial) return onCancel('escape');
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
      ref.current?.focus();
    }
  };

  return (
    <span className="name-box" onClick={(e) => e.stopPropagation()} onContextMenu={(e) => e.stopPropagation()}>
      <input
        ref={ref}
        aria-label="File name"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        value={value}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          setValue(e.target.value);
          setError(null);
        }}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Enter' && !busy) {
            e.preventDefault();
            void submit();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            onCancel('escape');
          }
        }}
        onBlur={() => {
          if (!busy) onCancel('blur');
        }}
      />
      {error && (
        <span className="name-error" id={errorId} role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
