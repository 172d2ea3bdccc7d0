// Zip archives in and out of a project, as pure functions: which entries of an uploaded zip
// become text files (and why the others do not), and the zip of a project's files.
import { unzipSync, zipSync, type Zippable } from 'fflate';

export const MAX_FILE_BYTES = 1 << 20;

export type TextFile = { path: string; content: string };
export type Skipped = { path: string; reason: string };
export type ProjectEntry = { path: string; type: 'file' | 'folder'; content?: string };

/** "my-app.zip" → "my-app"; a name that would be empty falls back to "Imported project". */
export function projectNameFromZip(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  return base.replace(/\.zip$/i, '').trim() || 'Imported project';
}

/** Forward slashes, no leading "/" or "./", no empty segments. */
function normalizePath(name: string): string {
  return name
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

// Finder and macOS archivers add these; they are never part of the project.
function isJunk(path: string): boolean {
  const parts = path.split('/');
  return parts.includes('__MACOSX') || parts[parts.length - 1] === '.DS_Store';
}

/** The folder every path lies in (GitHub's "repo-main/…" zips), or '' when there is none.
 *  Folder entries end with "/". */
export function sharedTopFolder(paths: string[]): string {
  if (paths.length === 0) return '';
  const first = paths[0].split('/')[0];
  return paths.every((p) => p.startsWith(first + '/')) ? first : '';
}

/** UTF-8 text, or why the bytes are not. */
export function decodeText(data: Uint8Array): { text: string } | { reason: string } {
  if (data.length > MAX_FILE_BYTES) return { reason: 'larger than 1 MiB' };
  if (data.includes(0)) return { reason: 'binary file' };
  try {
    // ignoreBOM keeps a byte-order mark, so the file comes back out unchanged.
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data) };
  } catch {
    return { reason: 'not UTF-8 text' };
  }
}

/** The text files of a zip, paths relative to its shared top folder, and what was left out. */
export function filesFromZip(data: Uint8Array): { files: TextFile[]; skipped: Skipped[] } {
  const tooLarge: string[] = [];
  const seen: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data, {
      // Decides before inflating, so a huge (or zip-bomb) entry is never expanded.
      filter: (info) => {
        const path = normalizePath(info.name);
        if (path === '' || isJunk(path)) return false;
        if (info.name.endsWith('/')) {
          seen.push(path + '/'); // an empty folder also decides whether there is a shared one
          return false;
        }
        seen.push(path);
        if (info.originalSize > MAX_FILE_BYTES) {
          tooLarge.push(path);
          return false;
        }
        return true;
      },
    });
  } catch (e) {
    throw new Error(`This is not a readable zip file (${(e as Error).message}).`);
  }

  const top = sharedTopFolder(seen);
  const strip = (p: string) => (top ? p.slice(top.length + 1) : p);
  const skipped: Skipped[] = tooLarge.map((p) => ({ path: strip(p), reason: 'larger than 1 MiB' }));
  const byPath = new Map<string, string>();
  for (const [name, bytes] of Object.entries(entries)) {
    const path = strip(normalizePath(name));
    if (path.split('/').includes('..')) {
      skipped.push({ path, reason: 'path leaves the project' });
      continue;
    }
    const decoded = decodeText(bytes);
    if ('reason' in decoded) skipped.push({ path, reason: decoded.reason });
    else byPath.set(path, decoded.text);
  }
  const files = [...byPath].map(([path, content]) => ({ path, content }));
  files.sort((a, b) => a.path.localeCompare(b.path));
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  return { files, skipped };
}

/** Splits files into requests of at most maxBytes of JSON each (the server bounds a body). */
export function batchFiles(files: TextFile[], maxBytes: number): TextFile[][] {
  const encoder = new TextEncoder();
  const batches: TextFile[][] = [];
  let current: TextFile[] = [];
  let size = 0;
  for (const f of files) {
    const bytes = encoder.encode(JSON.stringify(f)).length + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(f);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** A zip of a project: files with their text, folders as "path/" entries. */
export function zipProject(entries: ProjectEntry[]): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const tree: Zippable = {};
  for (const e of entries) {
    if (e.type === 'folder') tree[e.path.replace(/\/?$/, '/')] = new Uint8Array(0);
    else tree[e.path] = encoder.encode(e.content ?? '');
  }
  return zipSync(tree);
}
