// An assistant reply as Markdown. While it streams, the text may change many times per
// frame; it is re-parsed at most once per animation frame, with the latest text.
import { useEffect, useMemo, useRef, useState } from 'react';
import { renderMarkdown } from './renderMarkdown';

function useOncePerFrame<T>(value: T, active: boolean): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  latest.current = value;
  const frame = useRef(0);
  useEffect(() => {
    if (!active || frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setShown(latest.current);
    });
  }, [value, active]);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  return active ? shown : value;
}

export function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const shown = useOncePerFrame(text, streaming);
  const html = useMemo(() => renderMarkdown(shown), [shown]);
  if (streaming && !shown) return <span className="chat-caret" aria-hidden="true" />;
  return <div className={streaming ? 'md md-streaming' : 'md'} dangerouslySetInnerHTML={{ __html: html }} />;
}
