// Placeholder: replaced by the editor tabs.
export function EditorArea() {
  return <div>Editor</div>;
}
