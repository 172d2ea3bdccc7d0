// One message of the log. The user's text is shown as typed; the assistant's as Markdown,
// with its tool calls, its status while not completed, and Copy / Retry where they apply.
import { memo, useState } from 'react';
import type { MessageDoc } from '../../lib/api';
import { Markdown } from './Markdown';
import { ToolChip } from './ToolChip';

const STATUS_TEXT = { processing: 'processing…', failed: 'failed', cancelled: 'cancelled' } as const;

type Props = {
  message: MessageDoc;
  highlighted: boolean;
  /** The user message this reply answers, which Retry sends again; absent when there is none. */
  retryText?: string;
  onRetry: (text: string) => void; // stable
  retryDisabled: boolean;
};

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    // No clipboard (an insecure context, a denied permission): nothing to tell the user.
    navigator.clipboard
      ?.writeText(text)
      .then(() => {
        setCopied(true);
        window.setTimeout(() => setCopied(false), 1500);
      })
      .catch(() => {});
  };
  return (
    <button type="button" className="icon chat-copy" aria-label="Copy reply" title="Copy reply" onClick={copy}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

function MessageViewImpl({ message, highlighted, retryText, onRetry, retryDisabled }: Props) {
  const user = message.role === 'user';
  const status = user ? undefined : message.status;
  const live = status === 'processing';
  const badge = status && status !== 'completed' ? STATUS_TEXT[status] : null;
  return (
    <article
      className={`chat-msg ${user ? 'chat-msg-user' : 'chat-msg-assistant'}${highlighted ? ' chat-msg-highlight' : ''}`}
      aria-label={user ? 'You' : 'Assistant'}
      data-message-id={message._id}
      tabIndex={-1}
    >
      <div className="chat-msg-head">
        <span className="chat-msg-role">{user ? 'You' : 'Assistant'}</span>
        {badge && <span className={`chat-badge chat-badge-${status}`}>{badge}</span>}
        {!user && !live && message.content && <CopyButton text={message.content} />}
      </div>
      {user ? (
        <div className="chat-user-text">{message.content}</div>
      ) : (
        <>
          <Markdown text={message.content} streaming={live} />
          {message.toolCalls && message.toolCalls.length > 0 && (
            <div className="tool-chips">
              {message.toolCalls.map((c) => (
                <ToolChip key={c.id} call={c} live={live} />
              ))}
            </div>
          )}
        </>
      )}
      {status === 'failed' && (
        <div className="chat-failed">
          <span className="error-text">{message.error || 'The assistant could not answer.'}</span>
          {retryText !== undefined && (
            <button type="button" onClick={() => onRetry(retryText)} disabled={retryDisabled}>
              Retry
            </button>
          )}
        </div>
      )}
    </article>
  );
}

const sameCalls = (a: MessageDoc['toolCalls'], b: MessageDoc['toolCalls']) =>
  a === b || JSON.stringify(a) === JSON.stringify(b);

// Live updates hand over new objects for every message; only a changed one re-renders.
export const MessageView = memo(
  MessageViewImpl,
  (a, b) =>
    a.message._id === b.message._id &&
    a.message.content === b.message.content &&
    a.message.status === b.message.status &&
    a.message.error === b.message.error &&
    sameCalls(a.message.toolCalls, b.message.toolCalls) &&
    a.highlighted === b.highlighted &&
    a.retryDisabled === b.retryDisabled &&
    a.retryText === b.retryText,
);
