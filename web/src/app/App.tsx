// The page: sign-in until there is a session, then the projects home ("/") or a project
// ("/projects/:id"), with the convex client authenticated by the session's token.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ConvexProvider } from 'convex/react';
import { clearToken, initialSession, saveToken, type Session } from '../lib/auth';
import { setApiToken, setUnauthorizedHandler } from '../lib/api';
import { createConvexClient } from '../lib/convex';
import { navigate, usePath } from '../lib/router';
import { SignIn } from '../signin/SignIn';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { ProjectsHome } from '../home/ProjectsHome';
import { ProjectPage } from '../project/ProjectPage';

const EXPIRED = 'Your session has expired. Sign in again.';

// "/projects/%ZZ" is no id at all; the page then says the project was not found.
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function App() {
  const initial = useMemo(initialSession, []);
  const [session, setSession] = useState<Session | null>(initial.session);
  const [notice, setNotice] = useState<string | null>(initial.notice);
  const tokenRef = useRef(session?.token ?? '');
  tokenRef.current = session?.token ?? '';
  // Kept after a sign-out on purpose: the panes being torn down still save what they hold
  // (an editor's last keystrokes) with the token that was current.
  if (session) setApiToken(session.token);
  const signedIn = useRef(session !== null);
  signedIn.current = session !== null;

  // Once signed out, later refusals (a save on the way out) change nothing and keep the notice.
  const signOut = useCallback((why: string | null) => {
    if (!signedIn.current) return;
    signedIn.current = false;
    clearToken();
    setSession(null);
    setNotice(why);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler((message) => signOut(/expired/i.test(message) ? EXPIRED : `Signed out: ${message}`));
  }, [signOut]);

  // A sign-in link opened in a tab that already shows the page changes only the fragment.
  useEffect(() => {
    const onHash = () => {
      if (!/[#&]token=/.test(window.location.hash)) return;
      const next = initialSession();
      if (next.session) {
        setNotice(null);
        setSession(next.session);
      } else if (next.notice) {
        signOut(next.notice);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [signOut]);

  // Back to sign-in, saying why, the moment the token expires.
  useEffect(() => {
    if (!session?.expiresAt) return;
    const ms = session.expiresAt - Date.now();
    // setTimeout holds at most 2^31-1 ms (24.8 days): a longer token re-arms the timer.
    const limit = 2 ** 31 - 1;
    if (ms > limit) {
      const t = window.setTimeout(() => setSession((s) => (s ? { ...s } : s)), limit);
      return () => window.clearTimeout(t);
    }
    const t = window.setTimeout(() => signOut(EXPIRED), Math.max(0, ms));
    return () => window.clearTimeout(t);
  }, [session, signOut]);

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(s) => {
          saveToken(s.token);
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <SignedIn
      key={session.token}
      session={session}
      tokenRef={tokenRef}
      onSignOut={() => signOut(null)}
      onRefused={() =>
        signOut(
          session.expiresAt !== null && session.expiresAt <= Date.now() + 30_000
            ? EXPIRED
            : 'Signed out: the server did not accept your token.',
        )
      }
    />
  );
}

function SignedIn({
  session,
  tokenRef,
  onSignOut,
  onRefused,
}: {
  session: Session;
  tokenRef: React.MutableRefObject<string>;
  onSignOut: () => void;
  onRefused: () => void;
}) {
  const refused = useRef(onRefused);
  refused.current = onRefused;
  const client = useMemo(() => createConvexClient(() => tokenRef.current, () => refused.current()), [tokenRef]);
  useEffect(() => () => void client.close(), [client]);
  const path = usePath();
  const project = /^\/projects\/([^/]+)\/?$/.exec(path);
  return (
    <ConvexProvider client={client}>
      <div className="app">
        <header className="topbar">
          <a
            className="brand"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate('/');
            }}
          >
            Polaris
          </a>
          <span className="spacer" />
          <span className="who" title="Signed in as">
            {session.user}
          </span>
          <button type="button" className="ghost" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <main className="content">
          <ErrorBoundary key={path}>
            {project ? <ProjectPage key={project[1]} projectId={safeDecode(project[1])} /> : <ProjectsHome />}
          </ErrorBoundary>
        </main>
      </div>
    </ConvexProvider>
  );
}
