// Helpers for reading the SSE event stream of a conversation: rebuild the message list from
// snapshot/message/delta events, and `show` for assertion messages. Node built-ins only.
import assert from 'node:assert/strict';

/** JSON for assertion messages; String(v) when it cannot be serialised. */
export const show = (v) => {
  try { return JSON.stringify(v); } catch { return String(v); }
};

/** Applies SSE snapshot/message/delta events, in order, to a message list. */
export function rebuildFromEvents(events) {
  const docs = new Map();
  for (const ev of events) {
    if (ev.event === 'snapshot') {
      docs.clear();
      for (const m of ev.json) docs.set(m._id, structuredClone(m));
    } else if (ev.event === 'message') {
      docs.set(ev.json._id, structuredClone(ev.json));
    } else if (ev.event === 'delta') {
      const d = docs.get(ev.json._id);
      assert.ok(d, `delta for an unknown message: ${show(ev)}`);
      d.content += ev.json.append;
    }
  }
  return [...docs.values()];
}
