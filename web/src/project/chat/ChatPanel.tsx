// Placeholder: replaced by the chat panel.
export function ChatPanel(_props: { projectId: string; projectName: string }) {
  return <div>Chat</div>;
}
