// The signed-in token: taken from the sign-in link's fragment (#token=…, which never reaches a
// server log), kept in localStorage, and dropped when it expires or the server refuses it.
const KEY = 'polaris.token';

export type Session = { token: string; user: string; expiresAt: number | null };

function decodePayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const v = JSON.parse(json);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/** A session for a token that looks like a JWT with a subject; null (and why) otherwise. */
export function parseToken(raw: string): { session: Session } | { error: string } {
  const token = raw.trim();
  const payload = decodePayload(token);
  if (!payload) return { error: 'That is not a valid token.' };
  const user = typeof payload.sub === 'string' ? payload.sub : '';
  if (!user) return { error: 'The token has no subject (sub).' };
  const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  if (expiresAt !== null && expiresAt <= Date.now()) return { error: 'This token has expired.' };
  return { session: { token, user, expiresAt } };
}

/** Reads #token=… from the address bar (then removes it), else the stored token. */
export function initialSession(): { session: Session | null; notice: string | null } {
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fromLink = hash.get('token');
  if (fromLink !== null) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
    const parsed = parseToken(fromLink);
    if ('session' in parsed) {
      saveToken(parsed.session.token);
      return { session: parsed.session, notice: null };
    }
    return { session: null, notice: `The sign-in link did not work: ${parsed.error}` };
  }
  const stored = localStorage.getItem(KEY);
  if (!stored) return { session: null, notice: null };
  const parsed = parseToken(stored);
  if ('session' in parsed) return { session: parsed.session, notice: null };
  localStorage.removeItem(KEY);
  return { session: null, notice: 'Your session has expired. Sign in again.' };
}

export function saveToken(token: string) {
  localStorage.setItem(KEY, token);
}

export function clearToken() {
  localStorage.removeItem(KEY);
}
