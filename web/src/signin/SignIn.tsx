import type { Session } from '../lib/auth';
// Placeholder: replaced by the sign-in form.
export function SignIn(_props: { notice: string | null; onSignIn: (s: Session) => void }) {
  return <div>Sign in</div>;
}
