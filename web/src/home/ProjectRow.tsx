// One project in the list: its name (a link into the project), when it last changed, and
// Rename, Download and Delete. The link holds only the name, so its accessible name is exactly it.
import { useState } from 'react';
import { api, type ProjectDoc } from '../lib/api';
import { navigate } from '../lib/router';
import { relativeTime } from '../lib/time';
import { NameForm } from './NameForm';
import { downloadProject } from './transfer';

export function ProjectRow({
  project,
  now,
  renaming,
  fresh,
  deleting,
  onRename,
  onRenameEnd,
  onDelete,
}: {
  project: ProjectDoc;
  now: number;
  renaming: boolean;
  fresh: boolean;
  deleting: boolean;
  onRename: () => void;
  onRenameEnd: () => void;
  onDelete: () => void;
}) {
  const [downloading, setDownloading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { _id: id, name } = project;
  const href = `/projects/${encodeURIComponent(id)}`;

  async function download() {
    setDownloading(true);
    setError(null);
    try {
      await downloadProject(id, name);
    } catch (e) {
      setError(`Download failed: ${(e as Error).message}`);
    } finally {
      setDownloading(false);
    }
  }

  return (
    <li className={`project-row${fresh ? ' fresh' : ''}${deleting ? ' deleting' : ''}`} data-project-id={id}>
      {renaming ? (
        <NameForm
          initial={name}
          submitLabel="Save"
          className="rename-form"
          onCancel={onRenameEnd}
          onSubmit={async (newName) => {
            if (newName !== name) await api('PATCH', `/api/projects/${encodeURIComponent(id)}`, { name: newName });
            onRenameEnd();
          }}
        />
      ) : (
        <div className="project-main">
          <a
            className="project-name"
            href={href}
            title={name}
            onClick={(e) => {
              // Modified clicks keep the browser's meaning (new tab, new window).
              if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              navigate(href);
            }}
          >
            {name}
          </a>
          <time className="project-time" dateTime={new Date(project.updatedAt).toISOString()} title={new Date(project.updatedAt).toLocaleString()}>
            Updated {relativeTime(project.updatedAt, now)}
          </time>
        </div>
      )}
      {!renaming && (
        <div className="project-actions">
          <button type="button" className="ghost" aria-label={`Rename ${name}`} title="Rename" onClick={onRename} disabled={deleting}>
            Rename
          </button>
          <button
            type="button"
            className="ghost"
            aria-label={`Download ${name}`}
            title="Download as .zip"
            onClick={download}
            disabled={downloading || deleting}
            aria-busy={downloading}
          >
            {downloading ? 'Zipping…' : 'Download'}
          </button>
          <button type="button" className="ghost danger-text delete-button" aria-label={`Delete ${name}`} title="Delete" onClick={onDelete} disabled={deleting}>
            {deleting ? 'Deleting…' : 'Delete'}
          </button>
        </div>
      )}
      {error && (
        <p className="error-text project-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
