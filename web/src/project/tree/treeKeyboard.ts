// The tree's keys (WAI-ARIA tree pattern): arrows move and open/close, Enter opens, F2
// renames, Delete deletes, Shift+F10 or the menu key opens the context menu, letters jump.
import type { FileDoc, Id } from '../../lib/api';

export type KeyActions = {
  rows: FileDoc[];
  expanded: ReadonlySet<Id>;
  moveTo: (id: Id) => void;
  setOpen: (ids: Id[], open: boolean) => void;
  activate: (id: Id) => void;
  startRename: (id: Id) => void;
  askDelete: (id: Id) => void;
  menuAt: (row: HTMLElement, id: Id) => void;
  typeahead: { text: string; at: number };
};

/** Handles a key on a treeitem; returns false when the key is not the tree's. */
export function handleTreeKey(e: React.KeyboardEvent, row: HTMLElement, id: Id, k: KeyActions): boolean {
  const { rows } = k;
  const i = rows.findIndex((r) => r._id === id);
  const f = rows[i];
  if (!f) return false;
  const folder = f.type === 'folder';
  const move = (j: number) => {
    const r = rows[Math.max(0, Math.min(rows.length - 1, j))];
    if (r) k.moveTo(r._id);
  };
  const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
  switch (e.key) {
    case 'ArrowDown':
      move(i + 1);
      return true;
    case 'ArrowUp':
      move(i - 1);
      return true;
    case 'Home':
      move(0);
      return true;
    case 'End':
      move(rows.length - 1);
      return true;
    case 'ArrowRight':
      if (folder && !k.expanded.has(id)) k.setOpen([id], true);
      else if (folder && rows[i + 1]?.parentId === id) move(i + 1);
      return true;
    case 'ArrowLeft':
      if (folder && k.expanded.has(id)) k.setOpen([id], false);
      else if (f.parentId && rows.some((r) => r._id === f.parentId)) k.moveTo(f.parentId);
      return true;
    case 'Enter':
    case ' ':
      k.activate(id);
      return true;
    case 'F2':
      k.startRename(id);
      return true;
    case 'Delete':
      k.askDelete(id);
      return true;
    case 'Backspace':
      if (!e.metaKey) return false;
      k.askDelete(id);
      return true;
    case 'ContextMenu':
      k.menuAt(row, id);
      return true;
    case 'F10':
      if (!e.shiftKey) return false;
      k.menuAt(row, id);
      return true;
  }
  if (e.key.length !== 1 || !plain) return false;
  // Typing letters jumps to the next row whose name starts with them.
  const now = Date.now();
  k.typeahead.text = (now - k.typeahead.at < 700 ? k.typeahead.text : '') + e.key.toLowerCase();
  k.typeahead.at = now;
  const prefix = k.typeahead.text;
  const start = prefix.length > 1 ? i : i + 1;
  for (let n = 0; n < rows.length; n++) {
    const r = rows[(start + n) % rows.length];
    if (r.name.toLowerCase().startsWith(prefix)) {
      k.moveTo(r._id);
      break;
    }
  }
  return true;
}
