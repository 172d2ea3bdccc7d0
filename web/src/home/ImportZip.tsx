// "Import zip": picks a .zip, imports it into a new project (transfer.ts), and reports what
// happened: how many files were written and which were skipped, and why.
import { useRef } from 'react';
import { importZip, type ImportResult } from './transfer';

export type ImportState =
  | { phase: 'running'; stage: string }
  | { phase: 'done'; fileName: string; result: ImportResult }
  | { phase: 'failed'; fileName: string; message: string };

export function ImportZipButton({
  busy,
  onState,
  onImported,
}: {
  busy: boolean;
  onState: (s: ImportState) => void;
  onImported: (projectId: string) => void;
}) {
  const input = useRef<HTMLInputElement>(null);

  async function run(file: File) {
    onState({ phase: 'running', stage: `Reading ${file.name}…` });
    try {
      const result = await importZip(file, (stage) => onState({ phase: 'running', stage }));
      onState({ phase: 'done', fileName: file.name, result });
      if (result.projectId) onImported(result.projectId);
    } catch (e) {
      onState({ phase: 'failed', fileName: file.name, message: (e as Error).message });
    }
  }

  return (
    <>
      <button type="button" onClick={() => input.current?.click()} disabled={busy} aria-busy={busy}>
        Import zip
      </button>
      <input
        ref={input}
        type="file"
        accept=".zip,application/zip,application/x-zip-compressed"
        aria-label="Zip file to import"
        hidden
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = ''; // so picking the same file again imports it again
          if (file) void run(file);
        }}
      />
    </>
  );
}

// A zip's names can hold control characters; show them rather than blank boxes.
function visiblePath(path: string) {
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function plural(n: number, word: string) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function ImportReport({ state, onDismiss }: { state: ImportState; onDismiss: () => void }) {
  if (state.phase === 'running') {
    return (
      <div className="import-report running" role="status">
        <span className="spinner" aria-hidden="true" />
        {state.stage}
      </div>
    );
  }
  if (state.phase === 'failed') {
    return (
      <div className="import-report failed" role="alert">
        <p>
          Importing {state.fileName} failed: {state.message}
        </p>
        <button type="button" className="ghost" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    );
  }
  const { result } = state;
  return (
    <div className={`import-report ${result.error ? 'failed' : 'done'}`} role="status">
      <p>
        {result.projectId
          ? `Imported ${plural(result.written, 'file')} into ${result.name}.`
          : `Nothing imported: ${state.fileName} has no text files to import.`}
        {result.error && ` The import stopped early: ${result.error}`}
      </p>
      {result.skipped.length > 0 && (
        <details open={result.skipped.length <= 10}>
          <summary>Skipped {plural(result.skipped.length, 'file')}</summary>
          <ul className="skipped-list">
            {result.skipped.map((s, i) => (
              // A zip may name one path twice; the list never reorders, so the index is a stable key.
              <li key={i}>
                <code>{visiblePath(s.path)}</code> — {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      <button type="button" className="ghost" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
