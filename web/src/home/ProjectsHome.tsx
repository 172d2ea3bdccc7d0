// The projects home: the signed-in user's projects, live and newest first, with creating,
// renaming, deleting, importing a zip and downloading one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useQuery } from 'convex/react';
import { api, type ProjectDoc } from '../lib/api';
import { convexApi } from '../lib/convex';
import { ConfirmDialog } from '../ui/Dialog';
import { ImportReport, ImportZipButton, type ImportState } from './ImportZip';
import { NameForm } from './NameForm';
import { ProjectRow } from './ProjectRow';
import { useNow } from './useNow';
import './home.css';

// One name form at a time, so there is only ever one "Project name" textbox.
type Editing = { kind: 'new' } | { kind: 'rename'; id: string } | null;

export function ProjectsHome() {
  const projects = useQuery(convexApi.projects.get, {}) as ProjectDoc[] | undefined;
  const now = useNow(30_000);
  const [editing, setEditing] = useState<Editing>(null);
  const [focusId, setFocusId] = useState<string | null>(null);
  const [freshId, setFreshId] = useState<string | null>(null);
  const [toDelete, setToDelete] = useState<ProjectDoc | null>(null);
  const [deletingIds, setDeletingIds] = useState<ReadonlySet<string>>(new Set());
  const [pageError, setPageError] = useState<string | null>(null);
  const [importState, setImportState] = useState<ImportState | null>(null);
  const list = useRef<HTMLUListElement>(null);
  const newButton = useRef<HTMLButtonElement>(null);

  // A project just created, imported or renamed gets focus once the live list shows it.
  useEffect(() => {
    if (!focusId) return;
    const link = list.current?.querySelector<HTMLElement>(`[data-project-id="${CSS.escape(focusId)}"] a`);
    if (link) {
      link.focus();
      setFocusId(null);
    }
  }, [focusId, projects, editing]);

  // A stable callback: the dialog refocuses its first button whenever onCancel changes.
  const toDeleteRef = useRef(toDelete);
  toDeleteRef.current = toDelete;
  const cancelDelete = useCallback(() => {
    const p = toDeleteRef.current;
    setToDelete(null);
    if (p) list.current?.querySelector<HTMLElement>(`[data-project-id="${CSS.escape(p._id)}"] .delete-button`)?.focus();
  }, []);

  function reveal(id: string) {
    setFocusId(id);
    setFreshId(id);
  }

  async function create(name: string) {
    const { projectId } = await api<{ projectId: string }>('POST', '/api/projects', { name });
    setEditing(null);
    reveal(projectId);
  }

  async function remove(project: ProjectDoc) {
    setToDelete(null);
    setPageError(null);
    setDeletingIds((s) => new Set(s).add(project._id));
    try {
      await api('DELETE', `/api/projects/${encodeURIComponent(project._id)}`);
      newButton.current?.focus();
    } catch (e) {
      setPageError(`Could not delete ${project.name}: ${(e as Error).message}`);
    } finally {
      setDeletingIds((s) => {
        const next = new Set(s);
        next.delete(project._id);
        return next;
      });
    }
  }

  const importing = importState?.phase === 'running';
  return (
    <div className="home">
      <header className="home-header">
        <h1>Projects</h1>
        <div className="home-actions">
          <button
            ref={newButton}
            type="button"
            className="primary"
            aria-expanded={editing?.kind === 'new'}
            onClick={() => setEditing(editing?.kind === 'new' ? null : { kind: 'new' })}
          >
            New project
          </button>
          <ImportZipButton
            busy={importing}
            onState={setImportState}
            onImported={(id) => reveal(id)}
          />
        </div>
      </header>

      {editing?.kind === 'new' && (
        <NameForm
          submitLabel="Create"
          className="new-project-form"
          onSubmit={create}
          onCancel={() => {
            setEditing(null);
            newButton.current?.focus();
          }}
        />
      )}
      {importState && <ImportReport state={importState} onDismiss={() => setImportState(null)} />}
      {pageError && (
        <p className="error-text home-error" role="alert">
          {pageError}
        </p>
      )}

      {projects === undefined ? (
        <p className="home-empty muted" role="status">
          <span className="spinner" aria-hidden="true" /> Loading projects…
        </p>
      ) : projects.length === 0 ? (
        <p className="home-empty">No projects yet — create one or import a zip.</p>
      ) : (
        <ul className="project-list" ref={list} aria-label="Projects">
          {projects.map((p) => (
            <ProjectRow
              key={p._id}
              project={p}
              now={now}
              renaming={editing?.kind === 'rename' && editing.id === p._id}
              fresh={freshId === p._id}
              deleting={deletingIds.has(p._id)}
              onRename={() => setEditing({ kind: 'rename', id: p._id })}
              onRenameEnd={() => {
                setEditing(null);
                setFocusId(p._id);
              }}
              onDelete={() => setToDelete(p)}
            />
          ))}
        </ul>
      )}

      {toDelete && (
        <ConfirmDialog
          title="Delete project"
          message={`Delete project ${toDelete.name}? Its files and conversations are deleted too.`}
          confirmLabel="Delete"
          onConfirm={() => void remove(toDelete)}
          onCancel={cancelDelete}
        />
      )}
    </div>
  );
}
