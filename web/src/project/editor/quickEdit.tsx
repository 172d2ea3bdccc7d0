// Quick edit: Ctrl/Cmd+K on a selection opens a small panel near it; the instruction goes to
// POST /api/quick-edit and the answer is shown as a diff of the selection, to accept or
// reject. The selected range is tracked through later edits (and highlighted meanwhile),
// so Accept replaces exactly it, or says so when it was edited in the meantime. Each Ctrl+K
// is a new request with its own id: the panel is keyed by it, and the tracked range belongs
// to it, so a replaced panel can neither apply its answer nor clear the new range.
import { useEffect, useRef, useState } from 'react';
import { EditorState, Prec, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, EditorView, keymap } from '@codemirror/view';
import { api } from '../../lib/api';
import { editorTheme } from './theme';

type Range = { id: number; from: number; to: number; touched: boolean };

const setRange = StateEffect.define<{ id: number; from: number; to: number }>();
/** Drops the range of that request, if it is still the current one. */
const clearRange = StateEffect.define<number>();

const rangeField = StateField.define<Range | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) {
      if (e.is(setRange)) return { ...e.value, touched: false };
      if (e.is(clearRange) && value?.id === e.value) return null;
    }
    if (!value || !tr.docChanged) return value;
    return {
      id: value.id,
      from: tr.changes.mapPos(value.from, 1),
      to: Math.max(tr.changes.mapPos(value.from, 1), tr.changes.mapPos(value.to, -1)),
      touched: value.touched || tr.changes.touchesRange(value.from, value.to) !== false,
    };
  },
  provide: (field) =>
    EditorView.decorations.from(field, (r) =>
      r && r.to > r.from ? Decoration.set([Decoration.mark({ class: 'cm-quickEditRange' }).range(r.from, r.to)]) : Decoration.none,
    ),
});

export type QuickEditRequest = {
  id: number;
  from: number;
  to: number;
  selectedCode: string;
  fullCode: string;
  anchor: { top: number; left: number };
};

let lastRequestId = 0;

/** Ctrl/Cmd+K with a selection calls onOpen with what the panel needs. */
export function quickEdit(onOpen: (req: QuickEditRequest) => void): Extension {
  return [
    rangeField,
    Prec.high(
      keymap.of([
        {
          key: 'Mod-k',
          preventDefault: true,
          run(view) {
            const { from, to } = view.state.selection.main;
            if (from === to) return false;
            const id = ++lastRequestId;
            view.dispatch({ effects: setRange.of({ id, from, to }) });
            onOpen({
              id,
              from,
              to,
              selectedCode: view.state.sliceDoc(from, to),
              fullCode: view.state.doc.toString(),
              anchor: anchorBelow(view, to),
            });
            return true;
          },
        },
      ]),
    ),
  ];
}

// Just below the selection's last line, inside the editor's box (kept clear of its bottom).
function anchorBelow(view: EditorView, pos: number) {
  const box = view.dom.getBoundingClientRect();
  const at = view.coordsAtPos(pos) ?? { bottom: box.top + 40, left: box.left };
  const top = Math.min(Math.max(at.bottom - box.top + 6, 8), Math.max(8, box.height - 240));
  return { top, left: 48 };
}

type Phase =
  | { kind: 'ask' }
  | { kind: 'editing' }
  | { kind: 'review'; editedCode: string };

export function QuickEditPanel({
  view,
  request,
  language,
  onClose,
}: {
  view: EditorView;
  request: QuickEditRequest;
  language: Extension;
  onClose: () => void;
}) {
  const [instruction, setInstruction] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'ask' });
  const [error, setError] = useState<string | null>(null);
  const inflight = useRef<AbortController | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    inputRef.current?.focus();
    return () => {
      inflight.current?.abort();
      view.dispatch({ effects: clearRange.of(request.id) });
    };
  }, [view, request.id]);

  const close = () => {
    onClose();
    view.focus();
  };

  const submit = async () => {
    const text = instruction.trim();
    if (!text || phase.kind === 'editing') return;
    const ctrl = new AbortController();
    inflight.current = ctrl;
    setError(null);
    setPhase({ kind: 'editing' });
    try {
      const res = await api<{ editedCode?: string }>(
        'POST',
        '/api/quick-edit',
        { selectedCode: request.selectedCode, fullCode: request.fullCode, instruction: text },
        { signal: ctrl.signal },
      );
      if (inflight.current !== ctrl) return;
      setPhase({ kind: 'review', editedCode: typeof res?.editedCode === 'string' ? res.editedCode : '' });
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      setError((e as Error).message);
      setPhase({ kind: 'ask' });
    } finally {
      if (inflight.current === ctrl) inflight.current = null;
    }
  };

  const stop = () => {
    inflight.current?.abort();
    inflight.current = null;
    setPhase({ kind: 'ask' });
    inputRef.current?.focus();
  };

  const accept = (editedCode: string) => {
    const range = view.state.field(rangeField, false);
    if (!range || range.id !== request.id || range.touched) {
      setError('The selected code was edited meanwhile, so the change was not applied. Select it again and retry.');
      return;
    }
    view.dispatch({
      changes: { from: range.from, to: range.to, insert: editedCode },
      selection: { anchor: range.from, head: range.from + editedCode.length },
      userEvent: 'quickedit.accept',
      scrollIntoView: true,
    });
    close();
  };

  return (
    <div
      className="quick-edit"
      role="dialog"
      aria-label="Quick edit"
      style={{ top: request.anchor.top, left: request.anchor.left }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          close();
        }
      }}
    >
      {phase.kind !== 'review' ? (
        <form
          className="quick-edit-ask"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <input
            ref={inputRef}
            aria-label="Instruction"
            placeholder="Describe the change to the selection…"
            value={instruction}
            disabled={phase.kind === 'editing'}
            onChange={(e) => setInstruction(e.target.value)}
          />
          {phase.kind === 'editing' ? (
            <>
              <span className="quick-edit-busy" role="status">
                Editing…
              </span>
              <button type="button" onClick={stop}>
                Cancel
              </button>
            </>
          ) : (
            <>
              <button type="submit" className="primary" disabled={!instruction.trim()}>
                Edit
              </button>
              <button type="button" onClick={close}>
                Cancel
              </button>
            </>
          )}
        </form>
      ) : (
        <Review
          original={request.selectedCode}
          editedCode={phase.editedCode}
          language={language}
          onAccept={() => accept(phase.editedCode)}
          onReject={close}
        />
      )}
      {error && (
        <p className="quick-edit-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function Review({
  original,
  editedCode,
  language,
  onAccept,
  onReject,
}: {
  original: string;
  editedCode: string;
  language: Extension;
  onAccept: () => void;
  onReject: () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const same = editedCode === original;
  const [diffFailed, setDiffFailed] = useState<string | null>(null);
  useEffect(() => {
    if (same || !host.current) return;
    const parent = host.current;
    let diff: EditorView | null = null;
    let current = true;
    // The diff view is its own chunk: only quick edit needs it. When it cannot be loaded
    // (network, a server now serving a newer build) both versions are shown as plain text.
    import('@codemirror/merge')
      .then(({ unifiedMergeView }) => {
        if (!current) return;
        diff = new EditorView({
          parent,
          state: EditorState.create({
            doc: editedCode,
            extensions: [
              unifiedMergeView({ original, mergeControls: false, gutter: true }),
              language,
              editorTheme,
              EditorState.readOnly.of(true),
              EditorView.editable.of(false),
              EditorView.contentAttributes.of({ 'aria-label': 'Proposed change' }),
            ],
          }),
        });
      })
      .catch((e) => current && setDiffFailed((e as Error).message || 'unknown error'));
    return () => {
      current = false;
      diff?.destroy();
    };
  }, [original, editedCode, language, same]);

  const acceptRef = useRef<HTMLButtonElement>(null);
  useEffect(() => acceptRef.current?.focus(), []);

  return (
    <div className="quick-edit-review">
      {same ? (
        <p className="muted">No change was suggested for this selection.</p>
      ) : diffFailed === null ? (
        <div className="quick-edit-diff" ref={host} />
      ) : (
        <>
          <p className="quick-edit-error" role="alert">
            The diff view could not be loaded ({diffFailed}).
          </p>
          <span className="muted">Before</span>
          <pre className="quick-edit-plain">{original}</pre>
          <span className="muted">After</span>
          <pre className="quick-edit-plain">{editedCode}</pre>
        </>
      )}
      <div className="quick-edit-actions">
        <button type="button" className="primary" ref={acceptRef} onClick={onAccept} disabled={same}>
          Accept
        </button>
        <button type="button" onClick={onReject}>
          Reject
        </button>
      </div>
    </div>
  );
}
