// Saving one open file: PATCH /api/files/:id {content} after a pause in typing, or at once
// (Ctrl/Cmd+S, closing the tab). One request at a time; edits made meanwhile are saved
// right after, once what arrived during the request has been looked at (a remote change
// there stops the next save: the user decides first). `synced` is the content the editor
// and the server last agreed on: the editor is dirty while its text differs from it.
import { api, type Id } from '../../lib/api';

export type SaveStatus =
  | { kind: 'saved' }
  | { kind: 'unsaved' }
  | { kind: 'saving' }
  | { kind: 'error'; message: string };

const DELAY_MS = 800;
// A save that hangs (server stalled) is reported as failed, so the user can retry.
const SAVE_TIMEOUT_MS = 20_000;

export class Autosaver {
  synced: string;
  /** The content of the PATCH in flight, if any. */
  saving: string | null = null;
  /** While true (a conflict awaits the user's choice) only an explicit save writes. */
  paused = false;
  status: SaveStatus = { kind: 'saved' };
  private timer = 0;
  private again = false;
  private waiters: ((ok: boolean) => void)[] = [];
  // Texts sent whose echo has not come back through the live document yet, oldest first.
  private unconfirmed: string[] = [];

  constructor(
    private readonly id: Id,
    initial: string,
    private readonly hooks: {
      getText: () => string;
      onStatus: (s: SaveStatus) => void;
      /** A PATCH finished (either way): the live document may be looked at again. A queued
       * save is sent after this only when it left the saver unpaused. */
      onSettled: () => void;
    },
  ) {
    this.synced = initial;
  }

  private getText() {
    return this.hooks.getText();
  }

  isDirty() {
    return this.getText() !== this.synced;
  }

  /** The user changed the text: save after a pause. */
  edited() {
    if (this.saving === null) this.setStatus(this.isDirty() ? { kind: 'unsaved' } : { kind: 'saved' });
    window.clearTimeout(this.timer);
    if (!this.paused) this.timer = window.setTimeout(() => void this.save(), DELAY_MS);
  }

  /** True while a sent text has not been seen back in the live document. */
  get awaitingEcho() {
    return this.unconfirmed.length > 0;
  }

  /** The live document shows `content`: true when that is one of our own saves coming back
   * (it and every older save are then taken as seen). */
  isEcho(content: string) {
    const i = this.unconfirmed.lastIndexOf(content);
    if (i < 0) return false;
    this.unconfirmed.splice(0, i + 1);
    return true;
  }

  /** Saves now; resolves true once the server holds the editor's text as it is now (typing
   * during the request is saved next, but does not make this save fail). */
  save(): Promise<boolean> {
    window.clearTimeout(this.timer);
    this.paused = false;
    const done = new Promise<boolean>((resolve) => this.waiters.push(resolve));
    if (this.saving !== null) this.again = true;
    else void this.run();
    return done;
  }

  /** The server holds `content` now, and the editor agrees or is about to (a remote change taken). */
  adopt(content: string) {
    window.clearTimeout(this.timer);
    this.synced = content;
    this.paused = false;
    this.setStatus(this.isDirty() ? { kind: 'unsaved' } : { kind: 'saved' });
  }

  /** Holds autosave until the user resolves a conflict. */
  pause() {
    window.clearTimeout(this.timer);
    this.paused = true;
  }

  dispose() {
    window.clearTimeout(this.timer);
  }

  private async run() {
    const text = this.getText();
    if (text === this.synced) {
      this.setStatus({ kind: 'saved' });
      this.settle(true);
      return;
    }
    this.saving = text;
    this.setStatus({ kind: 'saving' });
    this.unconfirmed.push(text);
    let error: string | null = null;
    try {
      await api('PATCH', `/api/files/${this.id}`, { content: text }, { signal: AbortSignal.timeout(SAVE_TIMEOUT_MS) });
      this.synced = text;
    } catch (e) {
      error = (e as Error).message || 'unknown error';
      const i = this.unconfirmed.lastIndexOf(text);
      if (i >= 0) this.unconfirmed.splice(i, 1);
    }
    this.saving = null;
    const queued = this.again;
    this.again = false;
    this.hooks.onSettled();
    if (queued && !this.paused) {
      void this.run();
      return;
    }
    if (error !== null && this.isDirty()) this.setStatus({ kind: 'error', message: error });
    else this.setStatus(this.isDirty() ? { kind: 'unsaved' } : { kind: 'saved' });
    // A queued save stopped by a conflict has not saved the text it was asked to.
    this.settle(error === null && !queued);
  }

  private settle(ok: boolean) {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(ok);
  }

  private setStatus(s: SaveStatus) {
    this.status = s;
    this.hooks.onStatus(s);
  }
}
