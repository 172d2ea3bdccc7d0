// Which folders are open, remembered per project in localStorage.
import { useCallback, useEffect, useState } from 'react';
import type { FileDoc, Id } from '../../lib/api';
import type { FileIndex } from '../../lib/fileIndex';

function storageKey(projectId: Id) {
  return `polaris.tree.expanded.${projectId}`;
}

function load(projectId: Id): Set<Id> {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(storageKey(projectId)) ?? '[]');
    return new Set(Array.isArray(v) ? v.filter((x): x is Id => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

export function useExpanded(projectId: Id, files: FileDoc[] | undefined, index: FileIndex) {
  const [expanded, setExpanded] = useState<Set<Id>>(() => load(projectId));

  useEffect(() => {
    localStorage.setItem(storageKey(projectId), JSON.stringify([...expanded]));
  }, [projectId, expanded]);

  // Deleted folders leave the set (only once the list has loaded: an empty index means "not yet").
  useEffect(() => {
    if (!files) return;
    setExpanded((s) => {
      const kept = [...s].filter((id) => index.byId.get(id)?.type === 'folder');
      return kept.length === s.size ? s : new Set(kept);
    });
  }, [files, index]);

  const setOpen = useCallback((ids: Id[], open: boolean) => {
    setExpanded((s) => {
      if (ids.every((id) => s.has(id) === open)) return s;
      const next = new Set(s);
      for (const id of ids) {
        if (open) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }, []);

  const toggle = useCallback((id: Id) => {
    setExpanded((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);

  const collapseAll = useCallback(() => setExpanded(new Set()), []);

  return { expanded, setOpen, toggle, collapseAll };
}
