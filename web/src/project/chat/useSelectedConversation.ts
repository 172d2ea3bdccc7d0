// Which conversation the chat shows: the one last chosen in this project (remembered in
// localStorage) while it exists, else the newest. One created here counts as existing before
// the live list catches up with it.
import { useCallback, useRef, useState } from 'react';
import type { ConversationDoc } from '../../lib/api';

const keyOf = (projectId: string) => `polaris.chat.${projectId}`;

function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function useSelectedConversation(projectId: string, conversations: ConversationDoc[] | undefined) {
  const [chosen, setChosen] = useState<string | null>(() => load(keyOf(projectId)));
  const created = useRef(new Set<string>());

  const select = useCallback(
    (id: string, isNew = false) => {
      if (isNew) created.current.add(id);
      setChosen(id);
      try {
        localStorage.setItem(keyOf(projectId), id);
      } catch {
        // Not remembered across visits; the choice still holds for this one.
      }
    },
    [projectId],
  );

  const exists = !!chosen && (created.current.has(chosen) || !!conversations?.some((c) => c._id === chosen));
  const current = exists ? chosen : (conversations?.[0]?._id ?? null);
  return { current, select };
}
