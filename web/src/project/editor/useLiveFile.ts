// The open file's live document (content included). A file deleted under an open tab makes
// the query fail ("File not found"); that is reported as null rather than thrown, so a
// deleted file closes its tab quietly instead of breaking the page.
import { useMemo } from 'react';
import { useQueries } from 'convex/react';
import type { FileDoc, Id } from '../../lib/api';
import { convexApi } from '../../lib/convex';

/** undefined while loading, null when the file is gone or cannot be read. */
export function useLiveFile(id: Id): FileDoc | null | undefined {
  const queries = useMemo(() => ({ file: { query: convexApi.files.getFile, args: { id } } }), [id]);
  const result = useQueries(queries).file as FileDoc | null | undefined | Error;
  return result instanceof Error ? null : result;
}
