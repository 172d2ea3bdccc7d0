// The editor pane: the tab row, one FileEditor per open tab (only the active one shown),
// and a footer with the active file's save status. Closing a tab saves it first; when
// that fails, or the file has an unresolved remote change, the user decides.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Id } from '../../lib/api';
import { ConfirmDialog } from '../../ui/Dialog';
import { useWorkspace } from '../workspace';
import type { SaveStatus } from './autosave';
import { FileEditor, type EditorHandle } from './FileEditor';
import { languageFor } from './languages';
import { EditorTabs } from './Tabs';
import './editor.css';

type Closing = { id: Id; name: string; reason: string };

export function EditorArea() {
  const { tabs, activeTab, closeTab, index } = useWorkspace();
  const [statuses, setStatuses] = useState<Record<Id, SaveStatus>>({});
  const handles = useRef(new Map<Id, EditorHandle>());
  const [closing, setClosing] = useState<Closing | null>(null);

  const onStatus = useCallback((id: Id, s: SaveStatus) => setStatuses((m) => ({ ...m, [id]: s })), []);
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
      if (dirty.length === 0) return;
      for (const h of dirty) if (!h.hasConflict()) void h.saveNow();
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, []);

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
      <div className="editor-panels">
        {tabs.map((id) => (
          <FileEditor
            key={id}
            id={id}
            path={index.pathOf.get(id) ?? ''}
            active={id === activeTab}
            onStatus={onStatus}
            register={register}
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
