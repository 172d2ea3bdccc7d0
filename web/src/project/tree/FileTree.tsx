// Placeholder: replaced by the file tree.
export function FileTree() {
  return <div>Files</div>;
}
