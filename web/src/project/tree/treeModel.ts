// Pure helpers over the file index: which rows are visible, where a path goes, which folders
// hold marked files.
import type { FileDoc, Id } from '../../lib/api';
import type { FileIndex } from '../../lib/fileIndex';

/** The rows on screen, top to bottom: children of expanded folders only. */
export function visibleRows(index: FileIndex, expanded: ReadonlySet<Id>): FileDoc[] {
  const rows: FileDoc[] = [];
  const walk = (parent: Id | null) => {
    for (const f of index.children.get(parent) ?? []) {
      rows.push(f);
      if (f.type === 'folder' && expanded.has(f._id)) walk(f._id);
    }
  };
  walk(null);
  return rows;
}

/** The folders above an item, nearest first. */
export function ancestorsOf(index: FileIndex, id: Id): Id[] {
  const out: Id[] = [];
  let parent = index.byId.get(id)?.parentId;
  while (parent && index.byId.has(parent) && !out.includes(parent)) {
    out.push(parent);
    parent = index.byId.get(parent)?.parentId;
  }
  return out;
}

/** The path of a new entry typed as NAME (which may hold slashes) inside PARENT. */
export function childPath(index: FileIndex, parent: Id | null, name: string): string {
  const base = parent ? (index.pathOf.get(parent) ?? '') : '';
  const rel = name.replace(/^\/+|\/+$/g, '');
  return base ? `${base}/${rel}` : rel;
}

/** The folder a new entry goes into when the selection is ID: the folder itself or a file's parent. */
export function targetFolder(index: FileIndex, id: Id | null): Id | null {
  const f = id ? index.byId.get(id) : undefined;
  if (!f) return null;
  if (f.type === 'folder') return f._id;
  return f.parentId && index.byId.has(f.parentId) ? f.parentId : null;
}

/** Folders with a marked file anywhere below them. */
export function foldersWithChanges(index: FileIndex, isChanged: (id: Id) => boolean): Set<Id> {
  const out = new Set<Id>();
  for (const f of index.byId.values()) {
    if (f.type === 'file' && isChanged(f._id)) for (const a of ancestorsOf(index, f._id)) out.add(a);
  }
  return out;
}

/**
 * Why a typed name cannot work, or null. Caught here so the common mistakes need no failing
 * request; the server still has the last word. A new entry may hold slashes (it makes folders).
 */
export function nameProblem(name: string, allowSlash: boolean): string | null {
  if (!allowSlash && /[/\\]/.test(name)) return "A name cannot contain '/' or '\\'.";
  if (name.split('/').some((part) => part === '.' || part === '..')) return "A name cannot be '.' or '..'.";
  return null;
}
