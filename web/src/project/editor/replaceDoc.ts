// Replaces the editor's text with `next` by changing only the part that differs, so the
// cursor and scroll position stay where they were. Marked as a remote change: it does not
// count as the user's edit (no autosave, no suggestion).
import { Transaction } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';

export function replaceDoc(view: EditorView, next: string, { undoable }: { undoable: boolean }) {
  const cur = view.state.doc.toString();
  if (cur === next) return;
  const max = Math.min(cur.length, next.length);
  let start = 0;
  while (start < max && cur.charCodeAt(start) === next.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && cur.charCodeAt(cur.length - 1 - end) === next.charCodeAt(next.length - 1 - end)) end++;
  view.dispatch({
    changes: { from: start, to: cur.length - end, insert: next.slice(start, next.length - end) },
    annotations: undoable ? [Transaction.remote.of(true)] : [Transaction.remote.of(true), Transaction.addToHistory.of(false)],
  });
}
