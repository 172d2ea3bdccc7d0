// A pane that throws while rendering (a live query the server refused, a bug) shows what went
// wrong and a way back, instead of blanking the whole page.
import { Component, type ReactNode } from 'react';
import { navigate } from '../lib/router';

type State = { error: Error | null };

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const notFound = /not found/i.test(error.message);
    return (
      <div className="page-message" role="alert">
        <h1>{notFound ? 'Not found' : 'Something went wrong'}</h1>
        <p>{notFound ? 'It may have been deleted, or it belongs to another user.' : error.message}</p>
        <button type="button" onClick={() => navigate('/')}>
          Back to projects
        </button>
      </div>
    );
  }
}
