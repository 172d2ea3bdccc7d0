// One open file: its CodeMirror view (kept for the tab's lifetime, so undo history, cursor
// and scroll survive tab switches), its autosave, and its reconciliation with the live
// document: changes made elsewhere (the assistant) replace a clean editor at once, and ask
// the user when the editor holds unsaved edits. Unsaved edits of a file deleted meanwhile
// are handed to the editor area (onOrphan) rather than dropped.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Compartment, EditorState, Transaction, type Extension } from '@codemirror/state';
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { highlightSelectionMatches, search, searchKeymap } from '@codemirror/search';
import type { Id } from '../../lib/api';
import { useWorkspace } from '../workspace';
import { Autosaver, type SaveStatus } from './autosave';
import { ghostText } from './ghostText';
import { languageFor } from './languages';
import { useLiveFile } from './useLiveFile';
import { QuickEditPanel, quickEdit, type QuickEditRequest } from './quickEdit';
import { replaceDoc } from './replaceDoc';
import { editorTheme } from './theme';

/** What the tab row needs from an open editor. */
export type EditorHandle = {
  /** Ctrl/Cmd+S: saves now (overwriting a pending remote change, as "Keep mine" would). */
  saveNow: () => Promise<boolean>;
  /** Before closing: saves what is unsaved and waits (briefly) for the live copy to show it,
   * so the user's own save is marked seen. False when the save failed or a remote change
   * turned up (hasConflict). */
  flush: () => Promise<boolean>;
  isDirty: () => boolean;
  status: () => SaveStatus;
  hasConflict: () => boolean;
  /** Closing without saving: the unsaved edits are dropped. */
  discard: () => void;
};

type Conflict = { content: string; updatedAt: number };

/** Unsaved text of a file that was deleted while it was open. */
export type Orphan = { path: string; text: string };

const ECHO_WAIT_MS = 2000;

export function FileEditor({
  id,
  path,
  active,
  onStatus,
  register,
  onOrphan,
}: {
  id: Id;
  path: string;
  active: boolean;
  onStatus: (id: Id, s: SaveStatus) => void;
  register: (id: Id, handle: EditorHandle | null) => void;
  onOrphan: (o: Orphan) => void;
}) {
  const { markSeen, index } = useWorkspace();
  const exists = index.byId.has(id);
  const doc = useLiveFile(id);
  const host = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<EditorView | null>(null);
  const saver = useRef<Autosaver | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [quick, setQuick] = useState<QuickEditRequest | null>(null);
  // The path is gone from the index once the file is deleted; the notice still needs it.
  const knownPath = useRef(path);
  if (path) knownPath.current = path;
  const [language, setLanguage] = useState<Extension>([]);
  useEffect(() => {
    let current = true;
    languageFor(path)
      .create()
      .then((ext) => current && setLanguage(ext))
      .catch((e) => console.debug('syntax support did not load', e));
    return () => {
      current = false;
    };
  }, [path]);
  const languageSlot = useRef(new Compartment()).current;

  // Callbacks handed to CodeMirror and the saver once read the latest props through here.
  const latest = useRef({ path, active, doc, exists, conflict, markSeen, onStatus, onOrphan });
  latest.current = { path, active, doc, exists, conflict, markSeen, onStatus, onOrphan };

  const showConflict = (c: Conflict | null) => {
    latest.current.conflict = c;
    setConflict(c);
  };

  // The newest live version already decided on (taken, asked about, or in sync). An older
  // one showing after our save is the version that save replaced: its echo is on the way.
  const handled = useRef(0);
  // Waiting for the live document to catch up with our last save (see flush).
  const echoWaiters = useRef<(() => void)[]>([]);

  // Brings the editor in line with the live document (see the file comment).
  const reconcile = useCallback(() => {
    const s = saver.current;
    const { doc: d, conflict: pending, markSeen: seen } = latest.current;
    if (!view || !s || !d) return;
    const remote = d.content ?? '';
    const fresh = d.updatedAt > handled.current;
    // One of our own saves coming back while a newer one is still on its way: nothing to decide.
    if (fresh && s.isEcho(remote) && (s.saving !== null || s.awaitingEcho)) {
      handled.current = d.updatedAt;
      seen(id, d.updatedAt);
      return;
    }
    if (s.saving !== null) return; // a save in flight: decide once it lands
    if (remote === s.synced) {
      handled.current = Math.max(handled.current, d.updatedAt);
      if (pending) {
        showConflict(null);
        s.adopt(remote);
        if (s.isDirty()) s.edited();
      }
      seen(id, d.updatedAt);
      for (const done of echoWaiters.current.splice(0)) done();
      return;
    }
    if (!fresh) return;
    handled.current = d.updatedAt;
    const text = view.state.doc.toString();
    if (text === remote || text === s.synced) {
      replaceDoc(view, remote, { undoable: false });
      s.adopt(remote);
      showConflict(null);
      if (latest.current.active || text === remote) seen(id, d.updatedAt);
      return;
    }
    s.pause();
    showConflict({ content: remote, updatedAt: d.updatedAt });
  }, [view, id]);
  const reconcileRef = useRef(reconcile);
  reconcileRef.current = reconcile;

  // The view is made once, when the file's content first arrives.
  useEffect(() => {
    if (!doc || view || !host.current) return;
    const initial = doc.content ?? '';
    let created: EditorView | null = null;
    const s = new Autosaver(id, initial, {
      getText: () => created!.state.doc.toString(),
      onStatus: (st) => latest.current.onStatus(id, st),
      onSettled: () => reconcileRef.current(),
    });
    created = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: initial,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          highlightActiveLine(),
          highlightSelectionMatches(),
          search({ top: true }),
          ghostText(() => latest.current.path),
          quickEdit(setQuick),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab]),
          languageSlot.of(language),
          editorTheme,
          EditorView.contentAttributes.of({ 'aria-label': 'Editor' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && u.transactions.some((tr) => !tr.annotation(Transaction.remote))) s.edited();
          }),
        ],
      }),
    });
    saver.current = s;
    setView(created);
    // Later language changes (a rename) go through the compartment; see below.
  }, [doc, view, id]);

  // Unmounting (tab closed, page left) saves what is unsaved. A pending conflict stays unsaved
  // (leaving asked first: EditorArea's navigation guard); a deleted file's edits go to onOrphan.
  const discarded = useRef(false);
  useEffect(() => {
    if (!view) return;
    return () => {
      const s = saver.current;
      const { doc: d, exists: there, conflict: pending, onOrphan: orphan } = latest.current;
      if (s && !discarded.current && s.isDirty()) {
        if (!there || d === null) orphan({ path: knownPath.current, text: view.state.doc.toString() });
        else if (!pending) void s.save();
      }
      s?.dispose();
      view.destroy();
    };
  }, [view]);

  useEffect(() => {
    view?.dispatch({ effects: languageSlot.reconfigure(language) });
  }, [view, language, languageSlot]);

  useEffect(() => {
    reconcile();
  }, [doc, reconcile]);

  useEffect(() => {
    if (active) view?.requestMeasure();
  }, [active, view]);

  const reload = () => {
    const s = saver.current;
    if (!view || !s || !conflict) return;
    replaceDoc(view, conflict.content, { undoable: true }); // Ctrl+Z brings the user's text back
    s.adopt(conflict.content);
    showConflict(null);
    markSeen(id, conflict.updatedAt);
  };

  const keepMine = useCallback(() => {
    const s = saver.current;
    const c = latest.current.conflict;
    if (!s) return Promise.resolve(false);
    if (c) {
      s.adopt(c.content);
      showConflict(null);
      latest.current.markSeen(id, c.updatedAt);
    }
    return s.save();
  }, [id]);

  const flush = useCallback(async () => {
    const s = saver.current;
    if (!s) return true;
    // Typing during a request is saved by the next round; a remote change found meanwhile stops.
    while ((s.isDirty() || s.saving !== null) && !latest.current.conflict) {
      if (!(await s.save())) return false;
    }
    if (latest.current.conflict) return false;
    if ((latest.current.doc?.content ?? '') !== s.synced) {
      await new Promise<void>((resolve) => {
        echoWaiters.current.push(resolve);
        window.setTimeout(resolve, ECHO_WAIT_MS);
      });
    }
    return true;
  }, []);

  useEffect(() => {
    if (!view) return;
    register(id, {
      saveNow: keepMine,
      flush,
      isDirty: () => saver.current?.isDirty() ?? false,
      status: () => saver.current?.status ?? { kind: 'saved' },
      hasConflict: () => latest.current.conflict !== null,
      discard: () => {
        discarded.current = true;
      },
    });
    return () => register(id, null);
  }, [id, view, register, keepMine, flush]);

  return (
    <div className="file-editor" hidden={!active} role="tabpanel" id={`editor-panel-${id}`} aria-labelledby={`editor-tab-${id}`}>
      {conflict && (
        <div className="conflict-bar" role="alert">
          <span>This file was changed by the assistant.</span>
          <button type="button" onClick={reload}>
            Reload
          </button>
          <button type="button" onClick={() => void keepMine()}>
            Keep mine
          </button>
        </div>
      )}
      <div className="cm-host">
        <div className="cm-mount" ref={host} />
        {doc === undefined && <p className="editor-note muted">Loading…</p>}
        {doc === null && <p className="editor-note muted">This file no longer exists.</p>}
        {view && quick && (
          <QuickEditPanel key={quick.id} view={view} request={quick} language={language} onClose={() => setQuick(null)} />
        )}
      </div>
    </div>
  );
}
