// Unsaved edits of a file deleted while it was open (by the assistant, or from the tree): the
// tab is gone, but the text is kept here until the user saves it again at the same path,
// copies it, or lets it go.
import { useState } from 'react';
import { api, type Id } from '../../lib/api';
import { useWorkspace } from '../workspace';
import type { Orphan } from './FileEditor';

export function OrphanNotice({
  orphan,
  onSaved,
  onDismiss,
}: {
  orphan: Orphan;
  onSaved: (fileId: Id) => void;
  onDismiss: () => void;
}) {
  const { projectId } = useWorkspace();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const save = async () => {
    setBusy(true);
    setNote(null);
    try {
      const res = await api<{ fileId: Id }>('PUT', `/api/projects/${projectId}/files/content`, {
        path: orphan.path,
        content: orphan.text,
      });
      onSaved(res.fileId);
    } catch (e) {
      setNote(`Could not save: ${(e as Error).message}`);
      setBusy(false);
    }
  };

  const copy = () => {
    // No clipboard (an insecure context, a denied permission): say so; Save still works.
    const unavailable = () => setNote('The clipboard is not available here.');
    if (!navigator.clipboard) return unavailable();
    navigator.clipboard.writeText(orphan.text).then(() => setNote('Copied to the clipboard.'), unavailable);
  };

  return (
    <div className="orphan-bar" role="alert">
      <span>
        {orphan.path} was deleted while it had unsaved edits.{note && ` ${note}`}
      </span>
      <button type="button" disabled={busy} onClick={() => void save()}>
        Save as new file
      </button>
      <button type="button" onClick={copy}>
        Copy text
      </button>
      <button type="button" disabled={busy} onClick={onDismiss}>
        Discard
      </button>
    </div>
  );
}
