// The project's files as a tree: paths by id, ids by path, children sorted folders first.
import type { FileDoc, Id } from './api';

export type FileIndex = {
  byId: Map<Id, FileDoc>;
  pathOf: Map<Id, string>;
  idOfPath: Map<string, Id>;
  children: Map<Id | null, FileDoc[]>; // null: the project root
};

export function compareEntries(a: FileDoc, b: FileDoc): number {
  if (a.type !== b.type) return a.type === 'folder' ? -1 : 1;
  return a.name.localeCompare(b.name);
}

export function buildFileIndex(files: FileDoc[]): FileIndex {
  const byId = new Map(files.map((f) => [f._id, f]));
  const children = new Map<Id | null, FileDoc[]>();
  for (const f of files) {
    const parent = f.parentId && byId.has(f.parentId) ? f.parentId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(f);
  }
  for (const list of children.values()) list.sort(compareEntries);
  const pathOf = new Map<Id, string>();
  const idOfPath = new Map<string, Id>();
  const walk = (parent: Id | null, prefix: string) => {
    for (const f of children.get(parent) ?? []) {
      const p = prefix ? `${prefix}/${f.name}` : f.name;
      pathOf.set(f._id, p);
      idOfPath.set(p, f._id);
      if (f.type === 'folder') walk(f._id, p);
    }
  };
  walk(null, '');
  return { byId, pathOf, idOfPath, children };
}
