// Sign-in: paste a token (or arrive through the link `polaris serve` prints). The token is
// checked locally (shape, subject, expiry) and then by the server, so a token signed with
// another secret is refused here rather than on the next page.
import { useEffect, useState } from 'react';
import { parseToken, type Session } from '../lib/auth';
import './signin.css';

async function serverRefusal(token: string): Promise<string | null> {
  let res: Response;
  try {
    res = await fetch('/api/projects', {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    return 'The server cannot be reached. Check that polaris is running.';
  }
  if (res.ok) return null;
  const body = await res.json().catch(() => null);
  const why = body && typeof body.error === 'string' ? body.error : `status ${res.status}`;
  return res.status === 401 ? `The server refused this token: ${why}` : `Signing in failed: ${why}`;
}

export function SignIn({ notice, onSignIn }: { notice: string | null; onSignIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A sign-in link opened in this tab while it shows this form only changes the fragment,
  // which reloads nothing: take the token from it here. (Bound every render, to see `busy`.)
  useEffect(() => {
    const onHash = () => {
      const fromLink = new URLSearchParams(window.location.hash.slice(1)).get('token');
      if (fromLink === null) return;
      history.replaceState(null, '', window.location.pathname + window.location.search);
      setToken(fromLink);
      void submit(fromLink);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  });

  async function submit(raw = token) {
    if (busy) return;
    const parsed = parseToken(raw);
    if ('error' in parsed) {
      setError(raw.trim() ? parsed.error : 'Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    const refusal = await serverRefusal(parsed.session.token);
    setBusy(false);
    if (refusal) setError(refusal);
    else onSignIn(parsed.session);
  }

  return (
    <div className="signin-page">
      <form
        className="signin-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1>Sign in to Polaris</h1>
        {notice && (
          <p className="signin-notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="signin-token">Token</label>
        <textarea
          id="signin-token"
          value={token}
          rows={4}
          spellCheck={false}
          autoComplete="off"
          autoFocus
          placeholder="eyJhbGciOi…"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'signin-error' : 'signin-help'}
          onChange={(e) => {
            setToken(e.target.value);
            setError(null);
          }}
          onKeyDown={(e) => {
            // A token is one line: Enter submits (Shift+Enter is still a newline).
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        {error && (
          <p id="signin-error" className="signin-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          Sign in
        </button>
        <p id="signin-help" className="signin-help">
          Run <code>polaris token --user NAME</code> and paste the token here, or open the sign-in
          link printed by <code>polaris serve</code>.
        </p>
      </form>
    </div>
  );
}
