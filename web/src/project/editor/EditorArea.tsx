// The editor pane: the tab row, one FileEditor per open tab (only the active one shown),
// and a footer with the active file's save status. Closing a tab saves it first; when
// that fails, or the file has an unresolved remote change, the user decides. Leaving the
// project page asks first while edits would be lost (a conflict, a failed save, a deleted
// file's edits: those are kept in a notice until saved again or discarded).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Id } from '../../lib/api';
import { addNavigationGuard } from '../../lib/router';
import { ConfirmDialog } from '../../ui/Dialog';
import { useWorkspace } from '../workspace';
import type { SaveStatus } from './autosave';
import { FileEditor, type EditorHandle, type Orphan } from './FileEditor';
import { languageFor } from './languages';
import { OrphanNotice } from './OrphanNotice';
import { EditorTabs } from './Tabs';
import './editor.css';

type Closing = { id: Id; name: string; reason: string };

export function EditorArea() {
  const { tabs, activeTab, closeTab, openFile, index } = useWorkspace();
  const [statuses, setStatuses] = useState<Record<Id, SaveStatus>>({});
  const handles = useRef(new Map<Id, EditorHandle>());
  const [closing, setClosing] = useState<Closing | null>(null);
  const [orphans, setOrphans] = useState<Orphan[]>([]);
  // The navigation guard and beforeunload read the current values through here.
  const latest = useRef({ index, orphans });
  latest.current = { index, orphans };
  // A deleted file's edits saved again: its new tab opens once the tree lists it.
  const [openWhenListed, setOpenWhenListed] = useState<Id | null>(null);

  const onStatus = useCallback((id: Id, s: SaveStatus) => setStatuses((m) => ({ ...m, [id]: s })), []);
  const onOrphan = useCallback((o: Orphan) => setOrphans((list) => [...list.filter((x) => x.path !== o.path), o]), []);
  const dropOrphan = (o: Orphan) => setOrphans((list) => list.filter((x) => x !== o));

  useEffect(() => {
    if (openWhenListed && index.byId.has(openWhenListed)) {
      openFile(openWhenListed);
      setOpenWhenListed(null);
    }
  }, [openWhenListed, index, openFile]);
  const register = useCallback((id: Id, h: EditorHandle | null) => {
    if (h) handles.current.set(id, h);
    else handles.current.delete(id);
  }, []);

  const finishClose = (id: Id) => {
    closeTab(id);
    setStatuses(({ [id]: _gone, ...rest }) => rest);
  };

  const requestClose = async (id: Id) => {
    const h = handles.current.get(id);
    const name = index.byId.get(id)?.name ?? 'This file';
    if (h?.hasConflict()) {
      setClosing({ id, name, reason: `${name} was changed by the assistant while you had unsaved edits.` });
      return;
    }
    if (h && !(await h.flush())) {
      if (h.hasConflict()) {
        setClosing({ id, name, reason: `${name} was changed by the assistant while you had unsaved edits.` });
        return;
      }
      const s = h.status();
      const why = s?.kind === 'error' ? `: ${s.message}` : '.';
      setClosing({ id, name, reason: `${name} could not be saved${why}` });
      return;
    }
    finishClose(id);
  };

  // Leaving the page with unsaved edits: save them, and let the browser ask.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      const dirty = [...handles.current.values()].filter((h) => h.isDirty());
      if (dirty.length === 0 && latest.current.orphans.length === 0) return;
      for (const h of dirty) if (!h.hasConflict()) void h.saveNow();
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, []);

  // Leaving the project page (brand link, Back): edits saved on the way out need no question;
  // these would be lost.
  useEffect(
    () =>
      addNavigationGuard(() => {
        const { index: ix, orphans: lost } = latest.current;
        const open = [...handles.current];
        const names = (ids: Id[]) => ids.map((id) => ix.byId.get(id)?.name ?? 'a file').join(', ');
        const conflicts = open.filter(([, h]) => h.hasConflict()).map(([id]) => id);
        const failed = open
          .filter(([, h]) => !h.hasConflict() && h.isDirty() && h.status().kind === 'error')
          .map(([id]) => id);
        const why = [
          conflicts.length > 0 && `Your edits to ${names(conflicts)} conflict with the assistant's version and are not saved.`,
          failed.length > 0 && `Your edits to ${names(failed)} could not be saved.`,
          lost.length > 0 && `Your edits to ${lost.map((o) => o.path).join(', ')} (deleted meanwhile) are not saved.`,
        ].filter(Boolean);
        return why.length > 0 ? `${why.join(' ')} Leave anyway?` : null;
      }),
    [],
  );

  const onKeyDown = (e: React.KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
      e.preventDefault();
      if (activeTab) void handles.current.get(activeTab)?.saveNow();
    }
  };

  const activePath = activeTab ? (index.pathOf.get(activeTab) ?? '') : '';
  return (
    <section className="editor-area" aria-label="Editor area" onKeyDown={onKeyDown}>
      {tabs.length > 0 && <EditorTabs statuses={statuses} onClose={(id) => void requestClose(id)} />}
      {orphans.map((o) => (
        <OrphanNotice
          key={o.path}
          orphan={o}
          onSaved={(fileId) => {
            dropOrphan(o);
            setOpenWhenListed(fileId);
          }}
          onDismiss={() => dropOrphan(o)}
        />
      ))}
      <div className="editor-panels">
        {tabs.map((id) => (
          <FileEditor
            key={id}
            id={id}
            path={index.pathOf.get(id) ?? ''}
            active={id === activeTab}
            onStatus={onStatus}
            register={register}
            onOrphan={onOrphan}
          />
        ))}
        {!activeTab && <p className="editor-empty muted">Open a file from the tree</p>}
      </div>
      {activeTab && (
        <footer className="editor-footer">
          <SaveIndicator
            status={statuses[activeTab] ?? { kind: 'saved' }}
            onRetry={() => void handles.current.get(activeTab)?.saveNow()}
          />
          <span className="editor-footer-path" title={activePath}>
            {activePath}
          </span>
          <span className="editor-footer-lang">{languageFor(activePath).label}</span>
        </footer>
      )}
      {closing && (
        <ConfirmDialog
          title={`Close ${closing.name}?`}
          message={`${closing.reason} Close it and discard your edits?`}
          confirmLabel="Discard and close"
          onCancel={() => setClosing(null)}
          onConfirm={() => {
            handles.current.get(closing.id)?.discard();
            finishClose(closing.id);
            setClosing(null);
          }}
        />
      )}
    </section>
  );
}

function SaveIndicator({ status, onRetry }: { status: SaveStatus; onRetry: () => void }) {
  const text = {
    saved: 'Saved',
    unsaved: 'Unsaved changes',
    saving: 'Saving…',
    error: status.kind === 'error' ? `Save failed: ${status.message}` : '',
  }[status.kind];
  return (
    <span className={`save-status ${status.kind}`}>
      <span role="status">{text}</span>
      {status.kind === 'error' && (
        <button type="button" className="ghost" onClick={onRetry}>
          Retry
        </button>
      )}
    </span>
  );
}
