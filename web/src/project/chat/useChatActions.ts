// What the chat asks of the server: new conversations, sending (creating a conversation on
// the first Send), stopping a reply, and the notices their refusals turn into.
import { useCallback, useRef, useState } from 'react';
import { api, ApiError } from '../../lib/api';

export type Notice =
  | { kind: 'busy'; messageId: string; conversationId?: string }
  | { kind: 'error'; text: string };

function noticeFor(e: unknown): Notice {
  if (e instanceof ApiError) {
    const { messageId, conversationId, retryAfter } = e.body;
    if (e.status === 409 && typeof messageId === 'string') {
      return { kind: 'busy', messageId, conversationId: typeof conversationId === 'string' ? conversationId : undefined };
    }
    if (e.status === 429) {
      const wait = typeof retryAfter === 'number' && retryAfter > 0 ? `in ${retryAfter} s` : 'in a few seconds';
      return { kind: 'error', text: `${e.message.replace(/\.?$/, '.')} Try again ${wait}.` };
    }
    return { kind: 'error', text: e.message || `The server refused the request (${e.status}).` };
  }
  return { kind: 'error', text: e instanceof Error ? e.message : String(e) };
}

type Options = {
  projectId: string;
  conversationId: string | null;
  select: (id: string, isNew?: boolean) => void;
  /** Called once the server has taken a message. */
  onSent: () => void;
};

export function useChatActions({ projectId, conversationId, select, onSent }: Options) {
  const [sending, setSending] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const createConversation = async () => {
    const { conversationId: id } = await api<{ conversationId: string }>('POST', '/api/conversations', { projectId });
    select(id, true);
    return id;
  };

  const newConversation = async () => {
    setCreating(true);
    setNotice(null);
    try {
      await createConversation();
      return true;
    } catch (e) {
      setNotice(noticeFor(e));
      return false;
    } finally {
      setCreating(false);
    }
  };

  const send = async (message: string) => {
    setSending(true);
    setNotice(null);
    try {
      const id = conversationId ?? (await createConversation());
      await api('POST', '/api/messages', { conversationId: id, message });
      onSent();
      return true;
    } catch (e) {
      setNotice(noticeFor(e));
      return false;
    } finally {
      setSending(false);
    }
  };

  const stop = async (messageId: string) => {
    setStopping(true);
    try {
      await api('DELETE', '/api/messages', { messageId });
    } catch (e) {
      // 409: it finished on its own meanwhile, which is what Stop wanted anyway.
      if (!(e instanceof ApiError && e.status === 409)) setNotice(noticeFor(e));
    } finally {
      setStopping(false);
    }
  };

  // Retry buttons live in memoized messages: hand them a callback that never changes.
  const sendRef = useRef(send);
  sendRef.current = send;
  const retry = useCallback((text: string) => void sendRef.current(text), []);

  return { sending, stopping, creating, notice, setNotice, newConversation, send, stop, retry };
}
