// The message box: Enter sends, Shift+Enter starts a new line. The text is cleared only once
// the server has taken the message, so nothing typed is lost to an error.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';

type Props = {
  onSend: (text: string) => Promise<boolean>;
  sending: boolean;
  /** Set while the conversation's reply is being written: shows Stop. */
  onStop?: () => void;
  stopping: boolean;
  /** Changes when the box should take the focus (a new conversation). */
  focusToken: number;
};

const MAX_HEIGHT_PX = 200;

export function Composer({ onSend, sending, onStop, stopping, focusToken }: Props) {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  const empty = text.trim() === '';

  // The box grows with its text, up to a limit.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }, [text]);

  useEffect(() => {
    if (focusToken) box.current?.focus();
  }, [focusToken]);

  const send = async () => {
    if (empty || sending) return;
    if (await onSend(text.trim())) setText('');
    box.current?.focus();
  };

  return (
    <form
      className="chat-composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        ref={box}
        name="message"
        aria-label="Message"
        placeholder="Ask the assistant…"
        title="Enter sends; Shift+Enter starts a new line"
        rows={1}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <div className="chat-composer-actions">
        {onStop && (
          <button type="button" className="danger" onClick={onStop} disabled={stopping}>
            Stop
          </button>
        )}
        <button type="submit" className="primary" disabled={empty || sending}>
          Send
        </button>
      </div>
    </form>
  );
}
