// What the panes of a project page share: the live file list, the open editor tabs, and the
// "changed by the assistant" markers. The tree, the editor tabs and the chat's tool chips all
// open files through openFile/openPath.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'convex/react';
import type { FileDoc, Id } from '../lib/api';
import { convexApi } from '../lib/convex';
import { buildFileIndex, type FileIndex } from '../lib/fileIndex';

export type Workspace = {
  projectId: Id;
  files: FileDoc[] | undefined; // undefined while loading
  index: FileIndex;
  tabs: Id[];
  activeTab: Id | null;
  openFile: (id: Id) => void;
  openPath: (path: string) => boolean; // false when no such file
  closeTab: (id: Id) => void;
  /** True while a file changed since this browser last opened, saved or created it. */
  isChanged: (id: Id) => boolean;
  /** Records that the user has seen (opened, saved, created) the file at its current version. */
  markSeen: (id: Id, updatedAt?: number) => void;
};

const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const ws = useContext(WorkspaceContext);
  if (!ws) throw new Error('useWorkspace outside a project page');
  return ws;
}

// Seen versions live in localStorage per project: { fileId: updatedAt }. On the first visit
// every existing file is taken as seen; anything created or changed later by someone else
// (the assistant) carries a marker until it is opened.
function seenKey(projectId: Id) {
  return `polaris.seen.${projectId}`;
}

export function WorkspaceProvider({ projectId, children }: { projectId: Id; children: React.ReactNode }) {
  const files = useQuery(convexApi.files.getTree, { projectId }) as FileDoc[] | undefined;
  const index = useMemo(() => buildFileIndex(files ?? []), [files]);
  const [tabs, setTabs] = useState<Id[]>([]);
  const [activeTab, setActiveTab] = useState<Id | null>(null);
  const seen = useRef<Record<Id, number> | null>(null);
  const [, bump] = useState(0);

  useEffect(() => {
    if (!files || seen.current) return;
    const stored = localStorage.getItem(seenKey(projectId));
    if (stored) {
      try {
        seen.current = JSON.parse(stored);
      } catch {
        seen.current = null;
      }
    }
    if (!seen.current) {
      seen.current = Object.fromEntries(files.map((f) => [f._id, f.updatedAt]));
      localStorage.setItem(seenKey(projectId), JSON.stringify(seen.current));
    }
    bump((n) => n + 1);
  }, [files, projectId]);

  // Tabs of files that no longer exist close themselves.
  useEffect(() => {
    if (!files) return;
    const alive = (id: Id) => index.byId.get(id)?.type === 'file';
    setTabs((t) => (t.every(alive) ? t : t.filter(alive)));
  }, [files, index]);
  // A closed active tab hands over to the last remaining one, so one tab stays selected.
  useEffect(() => {
    if (activeTab && tabs.includes(activeTab)) return;
    const next = tabs[tabs.length - 1] ?? null;
    if (next !== activeTab) setActiveTab(next);
  }, [tabs, activeTab]);

  const markSeen = useCallback(
    (id: Id, updatedAt?: number) => {
      if (!seen.current) seen.current = {};
      const v = updatedAt ?? index.byId.get(id)?.updatedAt ?? Date.now();
      if (seen.current[id] === v) return;
      seen.current[id] = v;
      localStorage.setItem(seenKey(projectId), JSON.stringify(seen.current));
      bump((n) => n + 1);
    },
    [index, projectId],
  );

  const isChanged = useCallback(
    (id: Id) => {
      const f = index.byId.get(id);
      if (!f || f.type !== 'file' || !seen.current) return false;
      const s = seen.current[id];
      return s === undefined || s < f.updatedAt;
    },
    [index],
  );

  const openFile = useCallback(
    (id: Id) => {
      const f = index.byId.get(id);
      if (!f || f.type !== 'file') return;
      setTabs((t) => (t.includes(id) ? t : [...t, id]));
      setActiveTab(id);
      markSeen(id, f.updatedAt);
    },
    [index, markSeen],
  );

  const openPath = useCallback(
    (path: string) => {
      const id = index.idOfPath.get(path.replace(/^\/+/, ''));
      if (!id) return false;
      openFile(id);
      return true;
    },
    [index, openFile],
  );

  const closeTab = useCallback((id: Id) => {
    setTabs((t) => {
      const next = t.filter((x) => x !== id);
      setActiveTab((a) => (a === id ? (next[next.length - 1] ?? null) : a));
      return next;
    });
  }, []);

  const value: Workspace = {
    projectId,
    files,
    index,
    tabs,
    activeTab,
    openFile,
    openPath,
    closeTab,
    isChanged,
    markSeen,
  };
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}
