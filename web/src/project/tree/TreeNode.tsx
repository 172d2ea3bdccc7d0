// The rows of the tree. A folder's children sit in a role="group" right after its row (owned
// through aria-owns), so each treeitem is just its row: a click on it never lands on a child.
import type { FileDoc, Id } from '../../lib/api';
import type { FileIndex } from '../../lib/fileIndex';
import { ChevronIcon, FileIcon, FolderIcon, PencilIcon, TrashIcon, fileKind } from './icons';
import { NameInput } from './NameInput';

export type Editing =
  | { mode: 'create'; type: 'file' | 'folder'; parentId: Id | null }
  | { mode: 'rename'; id: Id };

/** What every row needs from the pane. */
export type TreeCtx = {
  index: FileIndex;
  expanded: ReadonlySet<Id>;
  selected: Id | null;
  tabbable: Id | null;
  editing: Editing | null;
  isChanged: (id: Id) => boolean;
  changedFolders: ReadonlySet<Id>;
  activate: (id: Id) => void;
  openMenu: (e: React.MouseEvent, id: Id) => void;
  startRename: (id: Id) => void;
  askDelete: (id: Id) => void;
  create: (name: string) => Promise<void>;
  rename: (id: Id, name: string) => Promise<void>;
  cancelEdit: (how: 'escape' | 'blur') => void;
};

const INDENT = 12;
const indent = (depth: number) => 6 + depth * INDENT;

export function TreeLevel({ parentId, depth, t }: { parentId: Id | null; depth: number; t: TreeCtx }) {
  const items = t.index.children.get(parentId) ?? [];
  const creating = t.editing?.mode === 'create' && t.editing.parentId === parentId ? t.editing : null;
  return (
    <>
      {creating && (
        <div className="tree-row new-entry" style={{ paddingLeft: indent(depth) }}>
          <span className="chev-space" />
          {creating.type === 'folder' ? <FolderIcon className="glyph folder" /> : <FileIcon className="glyph kind-other" />}
          <NameInput onSubmit={t.create} onCancel={t.cancelEdit} />
        </div>
      )}
      {items.map((f, i) => (
        <TreeNode key={f._id} file={f} depth={depth} pos={i + 1} size={items.length} t={t} />
      ))}
    </>
  );
}

function TreeNode({ file, depth, pos, size, t }: { file: FileDoc; depth: number; pos: number; size: number; t: TreeCtx }) {
  const id = file._id;
  const folder = file.type === 'folder';
  const open = folder && t.expanded.has(id);
  const renaming = t.editing?.mode === 'rename' && t.editing.id === id;
  const changed = folder ? t.changedFolders.has(id) : t.isChanged(id);
  const groupId = `tree-group-${id}`;
  const classes = ['tree-row', t.selected === id && 'selected', !folder && changed && 'changed', renaming && 'renaming'];
  return (
    <>
      <div
        role="treeitem"
        data-id={id}
        aria-label={file.name}
        aria-description={changed ? (folder ? 'contains files changed by the assistant' : 'changed by the assistant') : undefined}
        aria-level={depth + 1}
        aria-setsize={size}
        aria-posinset={pos}
        aria-expanded={folder ? open : undefined}
        aria-selected={t.selected === id}
        aria-owns={open ? groupId : undefined}
        tabIndex={t.tabbable === id ? 0 : -1}
        className={classes.filter(Boolean).join(' ')}
        style={{ paddingLeft: indent(depth) }}
        onClick={() => t.activate(id)}
        onContextMenu={(e) => t.openMenu(e, id)}
      >
        {folder ? <ChevronIcon className={open ? 'chev open' : 'chev'} /> : <span className="chev-space" />}
        {folder ? <FolderIcon open={open} className="glyph folder" /> : <FileIcon className={`glyph ${fileKind(file.name)}`} />}
        {renaming ? (
          <NameInput initial={file.name} selectStem={!folder} onSubmit={(name) => t.rename(id, name)} onCancel={t.cancelEdit} />
        ) : (
          <span className="tree-name" title={t.index.pathOf.get(id)}>
            {file.name}
          </span>
        )}
        {changed && (
          <span
            className={folder ? 'marker faint' : 'marker'}
            title={folder ? 'Contains files changed by the assistant' : 'Changed by the assistant'}
            aria-hidden="true"
          />
        )}
        {!renaming && (
          <span className="row-actions">
            <button
              type="button"
              className="icon"
              tabIndex={-1}
              aria-label={`Rename ${file.name}`}
              title="Rename (F2)"
              onClick={(e) => {
                e.stopPropagation();
                t.startRename(id);
              }}
            >
              <PencilIcon />
            </button>
            <button
              type="button"
              className="icon"
              tabIndex={-1}
              aria-label={`Delete ${file.name}`}
              title="Delete (Del)"
              onClick={(e) => {
                e.stopPropagation();
                t.askDelete(id);
              }}
            >
              <TrashIcon />
            </button>
          </span>
        )}
      </div>
      {open && (
        <div
          role="group"
          id={groupId}
          className="tree-group"
          style={{ ['--guide' as string]: `${indent(depth) + 7}px` } as React.CSSProperties}
        >
          <TreeLevel parentId={id} depth={depth + 1} t={t} />
        </div>
      )}
    </>
  );
}
