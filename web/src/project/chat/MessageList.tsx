// The conversation's messages, oldest first. It follows new text while the reader is at the
// bottom; once they scroll up it stays put and offers "Jump to latest".
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { MessageDoc } from '../../lib/api';
import { MessageView } from './MessageView';

const NEAR_BOTTOM_PX = 48;

type Props = {
  conversationId: string | null;
  loading: boolean;
  messages: MessageDoc[] | undefined;
  projectName: string;
  /** Changes when the list must jump to the bottom (the user just sent a message). */
  followToken: number;
  highlightId: string | null;
  onRetry: (text: string) => void;
  retryDisabled: boolean;
};

export function MessageList({
  conversationId,
  loading,
  messages,
  projectName,
  followToken,
  highlightId,
  onRetry,
  retryDisabled,
}: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const [showJump, setShowJump] = useState(false);

  const toBottom = useCallback((smooth = false) => {
    const el = scroller.current;
    if (!el) return;
    follow.current = true;
    setShowJump(false);
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
  }, []);

  // Content grows between renders too (Markdown is parsed once per frame), so follow the
  // size of the content rather than the message props.
  useEffect(() => {
    const el = content.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (follow.current && scroller.current) scroller.current.scrollTop = scroller.current.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => toBottom(), [conversationId, followToken, toBottom]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    follow.current = near;
    setShowJump(!near);
  };

  // "Show running message": bring it into view once it is in the list.
  const found = !!highlightId && !!messages?.some((m) => m._id === highlightId);
  useEffect(() => {
    if (!found || !highlightId) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(highlightId)}"]`);
    if (!el) return;
    follow.current = false;
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
  }, [found, highlightId]);

  let body: React.ReactNode;
  if (loading) {
    body = <p className="chat-empty muted">Loading messages…</p>;
  } else if (!messages || messages.length === 0) {
    body = (
      <div className="chat-empty">
        <p>Ask the assistant to write or change files in {projectName || 'this project'}</p>
        <p className="muted">It can create, edit, rename and delete files; you will see each change as it happens.</p>
      </div>
    );
  } else {
    body = messages.map((m, i) => {
      const prev = messages[i - 1];
      const retryText = m.status === 'failed' && prev?.role === 'user' ? prev.content : undefined;
      return (
        <MessageView
          key={m._id}
          message={m}
          highlighted={m._id === highlightId}
          retryText={retryText}
          onRetry={onRetry}
          retryDisabled={retryDisabled}
        />
      );
    });
  }

  return (
    <div className="chat-log-wrap">
      <div
        className="chat-log"
        ref={scroller}
        role="log"
        aria-label="Messages"
        aria-live="polite"
        onScroll={onScroll}
      >
        <div className="chat-log-content" ref={content}>
          {body}
        </div>
      </div>
      {showJump && (
        <button type="button" className="chat-jump" onClick={() => toBottom(true)}>
          Jump to latest ↓
        </button>
      )}
    </div>
  );
}
