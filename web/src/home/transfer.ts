// Importing a zip into a new project and downloading a project as a zip, over the bulk routes.
import { api } from '../lib/api';
import { batchFiles, filesFromZip, projectNameFromZip, zipProject, type ProjectEntry, type Skipped } from './zip';

// The server takes 16 MiB per bulk request; staying well under it leaves room for escaping.
const BATCH_BYTES = 12 << 20;
// Reading a zip holds all of it in memory; past this it is surely not a source tree.
const MAX_ZIP_BYTES = 256 << 20;

export type ImportResult = {
  projectId: string | null; // null when the zip held nothing to import
  name: string;
  written: number;
  skipped: Skipped[];
  error?: string; // set when a later batch failed after some files were written
};

const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function importZip(file: File, onStage: (stage: string) => void): Promise<ImportResult> {
  const name = projectNameFromZip(file.name);
  if (file.size > MAX_ZIP_BYTES) throw new Error(`${file.name} is too large to import (over 256 MiB).`);
  onStage(`Reading ${file.name}…`);
  const data = new Uint8Array(await file.arrayBuffer());
  await nextFrame(); // lets the stage paint before unzipping blocks the page
  const { files, skipped } = filesFromZip(data);
  if (files.length === 0) return { projectId: null, name, written: 0, skipped };

  onStage(`Creating project ${name}…`);
  const { projectId } = await api<{ projectId: string }>('POST', '/api/projects', { name });
  const result: ImportResult = { projectId, name, written: 0, skipped: [...skipped] };
  const batches = batchFiles(files, BATCH_BYTES);
  let sent = 0; // batches written
  try {
    for (const [i, batch] of batches.entries()) {
      onStage(`Uploading ${files.length} files${batches.length > 1 ? ` (part ${i + 1} of ${batches.length})` : ''}…`);
      const res = await api<{ written: number; skipped?: Skipped[] }>(
        'POST',
        `/api/projects/${encodeURIComponent(projectId)}/files/bulk`,
        { files: batch },
      );
      result.written += res.written;
      result.skipped.push(...(res.skipped ?? []));
      sent = i + 1;
    }
  } catch (e) {
    if (result.written > 0) {
      // The batches that never went out are reported too, so the list is complete.
      const reason = `not uploaded: ${(e as Error).message}`;
      for (const batch of batches.slice(sent)) for (const f of batch) result.skipped.push({ path: f.path, reason });
      result.skipped.sort((a, b) => a.path.localeCompare(b.path));
      return { ...result, error: (e as Error).message };
    }
    // Nothing landed: an empty project named after the zip would only be clutter.
    await api('DELETE', `/api/projects/${encodeURIComponent(projectId)}`).catch(() => {});
    throw e;
  }
  result.skipped.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}

export async function downloadProject(projectId: string, name: string): Promise<void> {
  const { files } = await api<{ files: ProjectEntry[] }>(
    'GET',
    `/api/projects/${encodeURIComponent(projectId)}/files/bulk`,
  );
  const url = URL.createObjectURL(new Blob([zipProject(files)], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name}.zip`;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by the next task; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
