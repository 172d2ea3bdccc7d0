// The REST routes, with the session's bearer token. Errors carry the server's sentence
// ({"error": …}) and status; a 401 signs the page out (see setUnauthorizedHandler).
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let token = '';
let onUnauthorized: (message: string) => void = () => {};

export function setApiToken(t: string) {
  token = t;
}
export function setUnauthorizedHandler(fn: (message: string) => void) {
  onUnauthorized = fn;
}

export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: options.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached. Check that polaris is running.');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const obj = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
    const message = typeof obj.error === 'string' ? obj.error : `Request failed (${res.status})`;
    const retry = Number(res.headers.get('Retry-After'));
    if (retry > 0) obj.retryAfter = retry;
    if (res.status === 401) onUnauthorized(message);
    throw new ApiError(res.status, message, obj);
  }
  return data as T;
}

/** The documents the server returns (interface.md "Documents"). */
export type Id = string;
export type ToolCall = { id: string; name: string; args: unknown; result?: unknown };
export type MessageDoc = {
  _id: Id;
  _creationTime: number;
  conversationId: Id;
  projectId: Id;
  role: 'user' | 'assistant';
  content: string;
  status?: 'processing' | 'completed' | 'cancelled' | 'failed';
  triggerRunId?: string;
  toolCalls?: ToolCall[];
  error?: string;
  model?: string;
};
export type ConversationDoc = { _id: Id; _creationTime: number; projectId: Id; title: string; updatedAt: number };
export type ProjectDoc = { _id: Id; _creationTime: number; name: string; ownerId: string; updatedAt: number };
export type FileDoc = {
  _id: Id;
  _creationTime: number;
  projectId: Id;
  parentId?: Id;
  name: string;
  type: 'file' | 'folder';
  content?: string;
  updatedAt: number;
};
