// The row of open files: click or arrow keys to switch, the × button, middle click or
// Delete to close. A dot marks a file whose edits are not saved yet.
import type { Id } from '../../lib/api';
import { useWorkspace } from '../workspace';
import type { SaveStatus } from './autosave';

export function EditorTabs({
  statuses,
  onClose,
}: {
  statuses: Record<Id, SaveStatus>;
  onClose: (id: Id) => void;
}) {
  const { tabs, activeTab, openFile, index } = useWorkspace();

  const focusTab = (id: Id) => {
    openFile(id);
    requestAnimationFrame(() => document.getElementById(`editor-tab-${id}`)?.focus());
  };

  const onKeyDown = (e: React.KeyboardEvent, id: Id) => {
    const i = tabs.indexOf(id);
    const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      focusTab(tabs[(to + tabs.length) % tabs.length]);
    } else if (e.key === 'Delete') {
      e.preventDefault();
      onClose(id);
    }
  };

  return (
    <div className="editor-tabs" role="tablist" aria-label="Open files">
      {tabs.map((id) => {
        const path = index.pathOf.get(id) ?? '';
        const name = index.byId.get(id)?.name ?? path;
        const status = statuses[id]?.kind ?? 'saved';
        const selected = id === activeTab;
        return (
          <div
            key={id}
            id={`editor-tab-${id}`}
            role="tab"
            aria-selected={selected}
            aria-controls={`editor-panel-${id}`}
            aria-label={name}
            aria-keyshortcuts="Delete"
            tabIndex={selected ? 0 : -1}
            title={path}
            className={`editor-tab${selected ? ' active' : ''}`}
            onClick={() => openFile(id)}
            onMouseDown={(e) => e.button === 1 && e.preventDefault()}
            onAuxClick={(e) => {
              if (e.button !== 1) return;
              e.preventDefault();
              onClose(id);
            }}
            onKeyDown={(e) => onKeyDown(e, id)}
          >
            <span className="editor-tab-name">{name}</span>
            {status !== 'saved' && (
              <span
                className={`editor-tab-dot${status === 'error' ? ' error' : ''}`}
                title={status === 'error' ? 'Save failed' : 'Unsaved changes'}
              />
            )}
            <button
              type="button"
              className="icon editor-tab-close"
              aria-label={`Close ${name}`}
              title={`Close ${name}`}
              tabIndex={-1}
              onClick={(e) => {
                e.stopPropagation();
                onClose(id);
              }}
            >
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}
