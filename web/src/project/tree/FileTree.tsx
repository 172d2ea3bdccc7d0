// The file tree pane: the project's files and folders, live, with inline create and rename,
// delete with confirmation, a context menu, keyboard navigation and the markers of files the
// assistant changed.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { api, type Id } from '../../lib/api';
import { ConfirmDialog } from '../../ui/Dialog';
import { useWorkspace } from '../workspace';
import { ContextMenu, type MenuItem } from './ContextMenu';
import { CollapseIcon, NewFileIcon, NewFolderIcon } from './icons';
import { handleTreeKey } from './treeKeyboard';
import { ancestorsOf, childPath, foldersWithChanges, nameProblem, targetFolder, visibleRows } from './treeModel';
import { TreeLevel, type Editing, type TreeCtx } from './TreeNode';
import { useExpanded } from './useExpanded';
import './tree.css';

type Menu = { x: number; y: number; id: Id | null };

export function FileTree() {
  const { projectId, files, index, activeTab, openFile, isChanged, markSeen } = useWorkspace();
  const { expanded, setOpen, toggle, collapseAll } = useExpanded(projectId, files, index);
  const [selected, setSelected] = useState<Id | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [deleting, setDeleting] = useState<Id | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Created here: revealed (and a file opened) once the live list has it.
  const [reveal, setReveal] = useState<{ id: Id; open: boolean } | null>(null);
  // Renamed here: the rename bumps updatedAt, which must not read as the assistant's change.
  const [renamed, setRenamed] = useState<{ id: Id; before: number } | null>(null);
  const treeRef = useRef<HTMLDivElement>(null);
  const focusWanted = useRef<Id | null>(null);
  const typeahead = useRef({ text: '', at: 0 });
  const indexRef = useRef(index);
  indexRef.current = index;

  const rows = useMemo(() => visibleRows(index, expanded), [index, expanded]);
  const tabbable = selected && rows.some((r) => r._id === selected) ? selected : (rows[0]?._id ?? null);
  const projectPath = `/api/projects/${encodeURIComponent(projectId)}`;

  // Focus a row now, or after the render that shows it.
  const focusRow = useCallback((id: Id | null) => {
    const el = id && treeRef.current?.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"]`);
    if (el) {
      el.focus();
      focusWanted.current = null;
    } else focusWanted.current = id;
  }, []);
  useEffect(() => {
    if (focusWanted.current && !index.byId.has(focusWanted.current)) focusWanted.current = null; // gone
    if (focusWanted.current) focusRow(focusWanted.current);
  });

  const revealRow = useCallback((id: Id) => setOpen(ancestorsOf(indexRef.current, id), true), [setOpen]);

  // Items that appear later (created by the assistant or elsewhere) get their folders opened.
  const known = useRef<Set<Id> | null>(null);
  useEffect(() => {
    if (!files) return;
    const before = known.current;
    known.current = new Set(files.map((f) => f._id));
    if (!before) return;
    const parents = files.filter((f) => !before.has(f._id)).flatMap((f) => ancestorsOf(index, f._id));
    if (parents.length) setOpen(parents, true);
  }, [files, index, setOpen]);

  // A file opened from elsewhere (chat, tabs) shows selected in its open folder.
  useEffect(() => {
    if (!activeTab) return;
    revealRow(activeTab);
    setSelected(activeTab);
  }, [activeTab, revealRow]);

  useEffect(() => {
    if (!reveal || !index.byId.has(reveal.id)) return;
    revealRow(reveal.id);
    setSelected(reveal.id);
    focusRow(reveal.id);
    if (reveal.open) openFile(reveal.id);
    setReveal(null);
  }, [reveal, index, revealRow, focusRow, openFile]);

  useEffect(() => {
    const f = renamed && index.byId.get(renamed.id);
    if (!renamed || (f && f.updatedAt <= renamed.before)) return;
    if (f) markSeen(f._id, f.updatedAt);
    setRenamed(null);
  }, [renamed, index, markSeen]);

  const activate = (id: Id) => {
    const f = index.byId.get(id);
    if (!f) return;
    setSelected(id);
    if (f.type === 'folder') toggle(id);
    else openFile(id);
  };

  const startCreate = (type: 'file' | 'folder', parentId: Id | null) => {
    if (parentId) setOpen([parentId, ...ancestorsOf(index, parentId)], true);
    setEditing({ mode: 'create', type, parentId });
  };

  const cancelEdit = (how: 'escape' | 'blur') => {
    const was = editing;
    setEditing(null);
    if (how === 'escape') focusRow(was?.mode === 'rename' ? was.id : tabbable);
  };

  const create = async (name: string) => {
    if (editing?.mode !== 'create') return;
    const problem = nameProblem(name, true);
    if (problem) throw new Error(problem);
    const path = childPath(index, editing.parentId, name);
    if (index.idOfPath.has(path)) throw new Error(`A file or folder named "${name}" already exists here.`);
    const { fileId } =
      editing.type === 'file'
        ? await api<{ fileId: Id }>('PUT', `${projectPath}/files/content`, { path, content: '' })
        : await api<{ fileId: Id }>('POST', `${projectPath}/folders`, { path });
    setEditing(null);
    setReveal({ id: fileId, open: editing.type === 'file' });
  };

  const rename = async (id: Id, name: string) => {
    const f = index.byId.get(id);
    if (!f) return setEditing(null);
    const problem = nameProblem(name, false);
    if (problem) throw new Error(problem);
    const wasChanged = isChanged(id);
    await api('PATCH', `/api/files/${encodeURIComponent(id)}`, { name });
    if (f.type === 'file' && !wasChanged) setRenamed({ id, before: f.updatedAt });
    setEditing(null);
    focusRow(id);
  };

  const remove = async (id: Id) => {
    setDeleting(null);
    // Focus moves to the row after the deleted one (past its contents), else the one before.
    const at = rows.findIndex((r) => r._id === id);
    const next =
      rows.slice(at + 1).find((r) => !ancestorsOf(index, r._id).includes(id)) ?? (at > 0 ? rows[at - 1] : undefined);
    try {
      await api('DELETE', `/api/files/${encodeURIComponent(id)}`);
      setSelected(next?._id ?? null);
      focusRow(next?._id ?? null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const openMenu = (e: React.MouseEvent, id: Id | null) => {
    e.preventDefault();
    e.stopPropagation();
    if (menu) return; // the context-menu key's own event, after the keyboard opened it
    if (id) setSelected(id);
    setMenu({ x: e.clientX, y: e.clientY, id });
  };

  const closeMenu = (refocus: boolean) => {
    if (refocus && menu) focusRow(menu.id ?? tabbable);
    setMenu(null);
  };

  // Stable, so the dialog does not refocus its first button on every live update.
  const deletingRef = useRef(deleting);
  deletingRef.current = deleting;
  const cancelDelete = useCallback(() => {
    focusWanted.current = deletingRef.current; // the row gets focus back after the dialog closes
    setDeleting(null);
  }, []);

  const menuItems = (id: Id | null): MenuItem[] => {
    const f = id ? index.byId.get(id) : undefined;
    const items: MenuItem[] = [];
    if (!f || f.type === 'folder') {
      items.push({ label: 'New file', onSelect: () => startCreate('file', f?._id ?? null) });
      items.push({ label: 'New folder', onSelect: () => startCreate('folder', f?._id ?? null) });
    }
    if (f) {
      items.push({ label: 'Rename', onSelect: () => setEditing({ mode: 'rename', id: f._id }) });
      items.push({ label: 'Delete', onSelect: () => setDeleting(f._id), danger: true });
    }
    return items;
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const row = e.target as HTMLElement;
    const id = row.getAttribute('role') === 'treeitem' ? row.dataset.id : undefined;
    if (!id) return;
    const handled = handleTreeKey(e, row, id, {
      rows,
      expanded,
      moveTo: (to) => {
        setSelected(to);
        focusRow(to);
      },
      setOpen,
      activate,
      startRename: (to) => setEditing({ mode: 'rename', id: to }),
      askDelete: setDeleting,
      menuAt: (el, to) => {
        const r = (el.querySelector('.tree-name') ?? el).getBoundingClientRect();
        setSelected(to);
        setMenu({ x: r.left, y: r.bottom, id: to });
      },
      typeahead: typeahead.current,
    });
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const ctx: TreeCtx = {
    index,
    expanded,
    selected,
    tabbable,
    editing,
    isChanged,
    changedFolders: foldersWithChanges(index, isChanged),
    activate,
    openMenu,
    startRename: (id) => setEditing({ mode: 'rename', id }),
    askDelete: setDeleting,
    create,
    rename,
    cancelEdit,
  };
  const doomed = deleting ? index.byId.get(deleting) : undefined;
  const menuTarget = menu?.id ? index.byId.get(menu.id) : undefined;

  return (
    <div className="file-tree">
      <div className="tree-header">
        <h2>Files</h2>
        <button
          type="button"
          className="icon"
          aria-label="New file"
          title="New file"
          disabled={!files}
          onClick={() => startCreate('file', targetFolder(index, selected))}
        >
          <NewFileIcon />
        </button>
        <button
          type="button"
          className="icon"
          aria-label="New folder"
          title="New folder"
          disabled={!files}
          onClick={() => startCreate('folder', targetFolder(index, selected))}
        >
          <NewFolderIcon />
        </button>
        <button type="button" className="icon" aria-label="Collapse folders" title="Collapse folders" onClick={collapseAll}>
          <CollapseIcon />
        </button>
      </div>
      {error && (
        <div className="tree-error" role="alert">
          <span>{error}</span>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => setError(null)}>
            ×
          </button>
        </div>
      )}
      {!files ? (
        <p className="tree-note" role="status">
          Loading files…
        </p>
      ) : (
        <>
          {files.length === 0 && !editing && (
            <p className="tree-note">
              No files yet
              <span>Create one with the buttons above, or ask the assistant.</span>
            </p>
          )}
          <div
            ref={treeRef}
            role="tree"
            aria-label="Files"
            className="tree"
            onKeyDown={onKeyDown}
            onClick={(e) => e.target === e.currentTarget && setSelected(null)}
            onContextMenu={(e) => openMenu(e, null)}
          >
            <TreeLevel parentId={null} depth={0} t={ctx} />
          </div>
        </>
      )}
      {menu &&
        createPortal(
          <ContextMenu
            x={menu.x}
            y={menu.y}
            label={menuTarget ? `Actions for ${menuTarget.name}` : 'File actions'}
            items={menuItems(menu.id)}
            onClose={closeMenu}
          />,
          document.body,
        )}
      {doomed && (
        <ConfirmDialog
          title={`Delete ${doomed.name}?`}
          message={
            doomed.type === 'folder'
              ? `The folder ${index.pathOf.get(doomed._id)} and everything in it will be deleted. This cannot be undone.`
              : `${index.pathOf.get(doomed._id)} will be deleted. This cannot be undone.`
          }
          confirmLabel="Delete"
          onConfirm={() => void remove(doomed._id)}
          onCancel={cancelDelete}
        />
      )}
    </div>
  );
}
