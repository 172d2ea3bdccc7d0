// One tool call of an assistant reply: its name, the path it worked on (a button that opens
// the file), and how it went. The chip expands to show the arguments and the result.
import { useEffect, useId, useState } from 'react';
import type { ToolCall } from '../../lib/api';
import { useWorkspace } from '../workspace';

type Result = { success?: unknown; error?: unknown };

function field(v: unknown, key: string): string | undefined {
  const x = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return typeof x === 'string' ? x : undefined;
}

function pretty(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

export function ToolChip({ call, live }: { call: ToolCall; live: boolean }) {
  const { openPath } = useWorkspace();
  const [open, setOpen] = useState(false);
  const [missing, setMissing] = useState(false);
  const detailsId = useId();
  const path = field(call.args, 'path');
  const result = call.result as Result | undefined;

  useEffect(() => {
    if (!missing) return;
    const t = window.setTimeout(() => setMissing(false), 3000);
    return () => window.clearTimeout(t);
  }, [missing]);

  let state: 'running' | 'ok' | 'failed' | 'stopped';
  if (result === undefined) state = live ? 'running' : 'stopped';
  else state = result.success === true ? 'ok' : 'failed';
  const error = state === 'failed' ? (field(result, 'error') ?? 'failed') : undefined;
  const label = { running: 'running', ok: 'done', failed: 'failed', stopped: 'not finished' }[state];

  return (
    <div className={`tool-chip tool-${state}`}>
      <div className="tool-row">
        <button
          type="button"
          className="tool-toggle"
          aria-expanded={open}
          aria-controls={open ? detailsId : undefined}
          onClick={() => setOpen((o) => !o)}
          title={open ? 'Hide details' : 'Show details'}
        >
          <span className="tool-status" aria-hidden="true">
            {state === 'running' ? <span className="tool-spinner" /> : state === 'ok' ? '✓' : state === 'failed' ? '✗' : '–'}
          </span>
          <span className="tool-name">{call.name}</span>
          <span className="visually-hidden">{label}</span>
        </button>
        {path !== undefined && (
          <button
            type="button"
            className="tool-path"
            title={`Open ${path}`}
            onClick={() => setMissing(!openPath(path))}
          >
            {path}
          </button>
        )}
        {missing && (
          <span className="tool-missing" role="status">
            file not found
          </span>
        )}
      </div>
      {error && <div className="tool-error">{error}</div>}
      {open && (
        <div className="tool-details" id={detailsId}>
          <div className="tool-details-label">Arguments</div>
          <pre>{pretty(call.args)}</pre>
          {result !== undefined && (
            <>
              <div className="tool-details-label">Result</div>
              <pre>{pretty(result)}</pre>
            </>
          )}
        </div>
      )}
    </div>
  );
}
