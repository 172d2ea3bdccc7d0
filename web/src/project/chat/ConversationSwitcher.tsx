// The header's conversation picker: the current title as a button that opens the project's
// conversations (a listbox), newest first, each with how long ago it changed.
import { useEffect, useRef, useState } from 'react';
import type { ConversationDoc } from '../../lib/api';
import { relativeTime } from '../../lib/time';

type Props = {
  title: string;
  conversations: ConversationDoc[];
  currentId: string | null;
  onSelect: (id: string) => void;
};

export function ConversationSwitcher({ title, conversations, currentId, onSelect }: Props) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) toggle.current?.focus();
  };
  const choose = (id: string) => {
    onSelect(id);
    close(true);
  };

  useEffect(() => {
    if (!open) return;
    const items = list.current?.querySelectorAll<HTMLElement>('[role="option"]');
    (list.current?.querySelector<HTMLElement>('[aria-selected="true"]') ?? items?.[0])?.focus();
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  // Up/Down/Home/End move between entries, Enter or Space picks one, Escape and Tab close.
  const onListKey = (e: React.KeyboardEvent) => {
    const items = [...(list.current?.querySelectorAll<HTMLElement>('[role="option"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => items[Math.max(0, Math.min(n, items.length - 1))]?.focus();
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(items.length - 1);
    else if ((e.key === 'Enter' || e.key === ' ') && i >= 0) choose(conversations[i]._id);
    else if (e.key === 'Escape') close(true);
    else if (e.key === 'Tab') return close(false);
    else return;
    e.preventDefault();
  };

  const now = Date.now();
  return (
    <div className="chat-switcher" ref={root}>
      {/* Named apart from the title: a title is often "New conversation", the name of the
          button beside it. */}
      <button
        ref={toggle}
        type="button"
        className="chat-switcher-toggle ghost"
        aria-label="Switch conversation"
        aria-haspopup="listbox"
        aria-expanded={open}
        disabled={conversations.length === 0}
        title="Switch conversation"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="chat-title">{title}</span>
        <span className="chat-switcher-caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <ul className="chat-switcher-list" ref={list} role="listbox" aria-label="Conversations" onKeyDown={onListKey}>
          {conversations.map((c) => (
            <li
              key={c._id}
              role="option"
              aria-selected={c._id === currentId}
              tabIndex={-1}
              onClick={() => choose(c._id)}
            >
              <span className="chat-switcher-title">{c.title || 'New conversation'}</span>
              <time className="muted" dateTime={new Date(c.updatedAt).toISOString()}>
                {relativeTime(c.updatedAt, now)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
