// A refusal from the server above the message box: another reply still running in this
// project (with a way to see it), or the server's sentence.
import type { Notice } from './useChatActions';

type Props = {
  notice: Notice;
  onShow: (messageId: string, conversationId?: string) => void;
  onDismiss: () => void;
};

export function ChatNotice({ notice, onShow, onDismiss }: Props) {
  return (
    <div className={`chat-notice chat-notice-${notice.kind}`} role="alert">
      <span className="chat-notice-text">
        {notice.kind === 'busy' ? 'A message is already being processed' : notice.text}
      </span>
      {notice.kind === 'busy' && (
        <button type="button" onClick={() => onShow(notice.messageId, notice.conversationId)}>
          Show running message
        </button>
      )}
      <button type="button" className="icon" aria-label="Dismiss" title="Dismiss" onClick={onDismiss}>
        ✕
      </button>
    </div>
  );
}
