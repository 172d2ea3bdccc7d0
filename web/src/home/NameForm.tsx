// A one-field form for a project name, used to create a project and to rename one. The
// textbox is always named "Project name"; the page shows at most one of these forms at a time.
import { useState } from 'react';

export function NameForm({
  initial = '',
  submitLabel,
  className,
  onSubmit,
  onCancel,
}: {
  initial?: string;
  submitLabel: string;
  className?: string;
  /** Resolves when done; a rejection's message is shown under the field. */
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit() {
    const trimmed = name.trim();
    if (!trimmed) {
      setError('Enter a name.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(trimmed);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <form
      className={`name-form ${className ?? ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) void submit();
      }}
    >
      <div className="name-form-row">
        <input
          aria-label="Project name"
          placeholder="Project name"
          value={name}
          maxLength={200}
          autoFocus
          onFocus={(e) => e.currentTarget.select()}
          aria-invalid={error ? true : undefined}
          onChange={(e) => {
            setName(e.target.value);
            setError(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              onCancel();
            }
          }}
        />
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          {submitLabel}
        </button>
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error-text name-form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
