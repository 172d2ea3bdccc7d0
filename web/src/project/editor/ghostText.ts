// AI completions shown as grey "ghost" text after the cursor. A pause in typing asks
// POST /api/suggestion (the previous request aborted); the answer is shown only if the
// document and cursor are still where they were. Tab accepts, Escape or any other edit or
// cursor move dismisses. Failures (rate limits, no provider) stay quiet, and pause further
// requests for a while: a suggestion is a nicety, not something to interrupt the user with.
import { Prec, StateEffect, StateField, type EditorState, type Extension } from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, WidgetType, keymap, type ViewUpdate } from '@codemirror/view';
import { api } from '../../lib/api';

const DEBOUNCE_MS = 400;
const CONTEXT_LINES = 5;
// After a failure (rate limit, no provider) suggestions rest a while, for every editor.
const QUIET_AFTER_ERROR_MS = 20_000;
let quietUntil = 0;

type Ghost = { pos: number; text: string };

const setGhost = StateEffect.define<Ghost | null>();

const ghostField = StateField.define<Ghost | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setGhost)) return e.value;
    return value && (tr.docChanged || tr.selection) ? null : value;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (g) =>
      g ? Decoration.set([Decoration.widget({ widget: new GhostWidget(g.text), side: 1 }).range(g.pos)]) : Decoration.none,
    ),
});

class GhostWidget extends WidgetType {
  constructor(readonly text: string) {
    super();
  }
  eq(other: GhostWidget) {
    return other.text === this.text;
  }
  toDOM() {
    const span = document.createElement('span');
    span.className = 'cm-ghostText';
    span.setAttribute('aria-hidden', 'true');
    span.textContent = this.text;
    return span;
  }
}

function acceptGhost(view: EditorView): boolean {
  const g = view.state.field(ghostField, false);
  if (!g) return false;
  view.dispatch({
    changes: { from: g.pos, insert: g.text },
    selection: { anchor: g.pos + g.text.length },
    userEvent: 'input.complete',
    scrollIntoView: true,
  });
  return true;
}

function dismissGhost(view: EditorView): boolean {
  if (!view.state.field(ghostField, false)) return false;
  view.dispatch({ effects: setGhost.of(null) });
  return true;
}

/** The request body the server's suggestion route expects, for the cursor at `pos`. */
function suggestionRequest(state: EditorState, pos: number, fileName: string) {
  const doc = state.doc;
  const line = doc.lineAt(pos);
  const around = (from: number, to: number) => {
    const out: string[] = [];
    for (let n = Math.max(1, from); n <= Math.min(doc.lines, to); n++) out.push(doc.line(n).text);
    return out.join('\n');
  };
  return {
    fileName,
    code: doc.toString(),
    currentLine: line.text,
    previousLines: around(line.number - CONTEXT_LINES, line.number - 1),
    textBeforeCursor: line.text.slice(0, pos - line.from),
    textAfterCursor: line.text.slice(pos - line.from),
    nextLines: around(line.number + 1, line.number + CONTEXT_LINES),
    lineNumber: line.number,
  };
}

function requester(getFileName: () => string) {
  return ViewPlugin.fromClass(
    class {
      timer = 0;
      inflight: AbortController | null = null;
      constructor(readonly view: EditorView) {}

      update(u: ViewUpdate) {
        // Typing (and deleting) asks for a suggestion; any other change or move only cancels.
        const typed = u.transactions.some((tr) => tr.isUserEvent('input') || tr.isUserEvent('delete'));
        if (typed) this.schedule();
        else if (u.docChanged || u.selectionSet || (u.focusChanged && !u.view.hasFocus)) this.cancel();
      }

      schedule() {
        this.cancel();
        this.timer = window.setTimeout(() => this.request(), DEBOUNCE_MS);
      }

      cancel() {
        window.clearTimeout(this.timer);
        this.inflight?.abort();
        this.inflight = null;
      }

      request() {
        const state = this.view.state;
        const sel = state.selection;
        if (sel.ranges.length !== 1 || !sel.main.empty || state.doc.length === 0 || !this.view.hasFocus) return;
        if (Date.now() < quietUntil) return;
        const pos = sel.main.head;
        const ctrl = new AbortController();
        this.inflight = ctrl;
        api<{ suggestion?: string }>('POST', '/api/suggestion', suggestionRequest(state, pos, getFileName()), {
          signal: ctrl.signal,
        }).then(
          (res) => {
            if (this.inflight !== ctrl) return;
            this.inflight = null;
            const text = typeof res?.suggestion === 'string' ? res.suggestion : '';
            const now = this.view.state;
            if (!text.trim() || now.doc !== state.doc || now.selection.main.head !== pos || !now.selection.main.empty) return;
            this.view.dispatch({ effects: setGhost.of({ pos, text }) });
          },
          (e: Error) => {
            if (e.name === 'AbortError') return;
            quietUntil = Date.now() + QUIET_AFTER_ERROR_MS;
            console.debug('No suggestion:', e.message);
          },
        );
      }

      destroy() {
        this.cancel();
      }
    },
  );
}

export function ghostText(getFileName: () => string): Extension {
  return [
    ghostField,
    requester(getFileName),
    EditorView.focusChangeEffect.of((state, focusing) => (!focusing && state.field(ghostField) ? setGhost.of(null) : null)),
    Prec.highest(
      keymap.of([
        { key: 'Tab', run: acceptGhost },
        { key: 'Escape', run: dismissGhost },
      ]),
    ),
  ];
}
