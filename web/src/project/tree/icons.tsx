// The tree's glyphs: small inline SVGs drawn in currentColor (colour comes from tree.css).
type P = { className?: string };

export function ChevronIcon({ className }: P) {
  return (
    <svg className={className} viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M6 4l4 4-4 4" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function FolderIcon({ open, className }: P & { open?: boolean }) {
  return (
    <svg className={className} viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      {open ? (
        <path d="M1.5 4.5v8h11l2-5.5H4.5l-2 5.5M1.5 4.5V3h4l1.5 1.5h5.5V7" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
      ) : (
        <path d="M1.5 3h4.2l1.5 1.5h7.3v8H1.5z" fill="currentColor" fillOpacity="0.25" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
      )}
    </svg>
  );
}

export function FileIcon({ className }: P) {
  return (
    <svg className={className} viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
    </svg>
  );
}

export function NewFileIcon() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M8.5 14.5h-5v-13h6l3 3v3.5 M9.5 1.5v3h3 M12 10v5 M9.5 12.5h5" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

export function NewFolderIcon() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M8 12.5H1.5V3h4.2l1.5 1.5h7.3V8 M12 9.5v5 M9.5 12h5" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

export function CollapseIcon() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path d="M2.5 2.5h11v11h-11z M5 8h6" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

export function PencilIcon() {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d="M10.5 2.5l3 3-8 8h-3v-3z M9 4l3 3" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
    </svg>
  );
}

export function TrashIcon() {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d="M2.5 4h11 M6 4V2.5h4V4 M4 4l.7 9.5h6.6L12 4 M6.8 6.5v5 M9.2 6.5v5" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

/** A CSS class that tints a file's glyph by its kind. */
export function fileKind(name: string): string {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (['ts', 'tsx', 'mts', 'cts'].includes(ext)) return 'kind-ts';
  if (['js', 'jsx', 'mjs', 'cjs'].includes(ext)) return 'kind-js';
  if (['py'].includes(ext)) return 'kind-py';
  if (['html', 'htm', 'svg', 'xml'].includes(ext)) return 'kind-html';
  if (['css', 'scss', 'less'].includes(ext)) return 'kind-css';
  if (['json', 'yaml', 'yml', 'toml'].includes(ext)) return 'kind-data';
  if (['md', 'markdown', 'txt'].includes(ext)) return 'kind-text';
  return 'kind-other';
}
