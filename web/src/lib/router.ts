// A tiny history router: "/" is the projects home, "/projects/:id" a project.
import { useEffect, useState } from 'react';

const listeners = new Set<() => void>();
// Asked before the page moves elsewhere; a guard that returns a sentence (e.g. edits that
// would be lost) makes navigate() ask the user to confirm first.
const guards = new Set<() => string | null>();

export function addNavigationGuard(guard: () => string | null): () => void {
  guards.add(guard);
  return () => guards.delete(guard);
}

function confirmLeave(): boolean {
  for (const g of guards) {
    const why = g();
    if (why && !window.confirm(why)) return false;
  }
  return true;
}

export function navigate(path: string) {
  if (path === window.location.pathname) return;
  if (!confirmLeave()) return;
  history.pushState(null, '', path);
  listeners.forEach((l) => l());
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    // Back/Forward has already moved: if a guard objects and the user stays, move back.
    const onPop = () => {
      if (window.location.pathname !== path && !confirmLeave()) {
        history.pushState(null, '', path);
        return;
      }
      update();
    };
    listeners.add(update);
    window.addEventListener('popstate', onPop);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', onPop);
    };
  }, [path]);
  return path;
}
