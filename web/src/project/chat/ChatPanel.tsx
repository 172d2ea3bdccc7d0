// The chat pane: the conversation picker, the live message log and the message box.
import { useEffect, useState } from 'react';
import { useQuery } from 'convex/react';
import type { ConversationDoc, MessageDoc } from '../../lib/api';
import { convexApi } from '../../lib/convex';
import { Composer } from './Composer';
import { ConversationSwitcher } from './ConversationSwitcher';
import { MessageList } from './MessageList';
import { ChatNotice } from './ChatNotice';
import { useChatActions } from './useChatActions';
import { useSelectedConversation } from './useSelectedConversation';
import './chat.css';

const HIGHLIGHT_MS = 4000;

export function ChatPanel({ projectId, projectName }: { projectId: string; projectName: string }) {
  const conversations = useQuery(convexApi.conversations.getConversations, { projectId }) as
    | ConversationDoc[]
    | undefined;
  const { current, select } = useSelectedConversation(projectId, conversations);
  const messages = useQuery(convexApi.messages.getMessages, current ? { conversationId: current } : 'skip') as
    | MessageDoc[]
    | undefined;
  const [followToken, setFollowToken] = useState(0);
  const [focusToken, setFocusToken] = useState(0);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const actions = useChatActions({
    projectId,
    conversationId: current,
    select,
    onSent: () => setFollowToken((n) => n + 1),
  });

  useEffect(() => {
    if (!highlightId) return;
    const t = window.setTimeout(() => setHighlightId(null), HIGHLIGHT_MS);
    return () => window.clearTimeout(t);
  }, [highlightId]);

  const title = current ? conversations?.find((c) => c._id === current)?.title || 'New conversation' : 'Assistant';
  const lastReply = messages?.filter((m) => m.role === 'assistant').pop();
  const running = lastReply?.status === 'processing' ? lastReply : undefined;

  const showRunning = (messageId: string, conversationId?: string) => {
    if (conversationId) select(conversationId);
    setHighlightId(messageId);
    actions.setNotice(null);
  };

  return (
    <section className="chat" aria-label="Chat">
      <header className="chat-header">
        <ConversationSwitcher
          title={title}
          conversations={conversations ?? []}
          currentId={current}
          onSelect={(id) => select(id)}
        />
        <button
          type="button"
          className="chat-new"
          disabled={actions.creating}
          onClick={async () => {
            if (await actions.newConversation()) setFocusToken((n) => n + 1);
          }}
        >
          <span aria-hidden="true">+ </span>New conversation
        </button>
      </header>
      <MessageList
        conversationId={current}
        loading={conversations === undefined || (!!current && messages === undefined)}
        messages={messages}
        projectName={projectName}
        followToken={followToken}
        highlightId={highlightId}
        onRetry={actions.retry}
        retryDisabled={actions.sending || !!running}
      />
      {actions.notice && (
        <ChatNotice notice={actions.notice} onShow={showRunning} onDismiss={() => actions.setNotice(null)} />
      )}
      <Composer
        onSend={actions.send}
        sending={actions.sending || actions.creating}
        onStop={running ? () => void actions.stop(running._id) : undefined}
        stopping={actions.stopping}
        focusToken={focusToken}
      />
    </section>
  );
}
