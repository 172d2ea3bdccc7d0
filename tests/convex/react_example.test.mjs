// The seed page's "Complete Example" (AIConversation) written with React.createElement, rendered
// with react-test-renderer inside ConvexProvider + ConvexReactClient against the real binary:
// useMutation(api.conversations.create) + useQuery(api.messages.getMessages) + POST /api/messages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import TestRenderer from 'react-test-renderer';
import { ConvexReactClient, ConvexProvider, useMutation, useQuery } from 'convex/react';
import { anyApi } from 'convex/server';
import { client as restClient, expectOk, expectId, newUser } from '../e2e/lib/server.mjs';
import { useMockedServer, getMessages, words } from '../e2e/lib/mock.mjs';
import { clientOptions, assertProtocolInvariants, show, sleep } from './lib.mjs';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const { act, create } = TestRenderer;
const h = React.createElement;
const api = anyApi;
const ctx = useMockedServer({ mocks: 1 });

const clients = new Set();
after(async () => { for (const c of clients) await c.close(); });

// The seed page's component, as written there, except: the base URL (Node's fetch needs an
// absolute URL), the token comes in as a prop, and `onSent` reports the POST's answer so the
// test can check it.
function AIConversation({ projectId, baseUrl, token, onSent }) {
  const [message, setMessage] = React.useState('');
  const [conversationId, setConversationId] = React.useState(null);
  const createConversation = useMutation(api.conversations.create);
  const messages = useQuery(api.messages.getMessages, conversationId ? { conversationId } : 'skip');

  const sendMessage = async () => {
    let convId = conversationId;
    if (!convId) {
      convId = await createConversation({ projectId, title: 'New Chat' });
      setConversationId(convId);
    }
    const response = await fetch(`${baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ conversationId: convId, message }),
    });
    onSent?.({ status: response.status, body: await response.json(), convId });
    setMessage('');
  };

  return h('div', null,
    h('div', { className: 'messages' },
      messages?.map((msg) => h('div', { key: msg._id, className: msg.role },
        h('p', null, msg.content),
        msg.status === 'processing' && h('span', null, '...')))),
    h('div', null,
      h('input', { value: message, onChange: (e) => setMessage(e.target.value), placeholder: 'Ask AI anything...' }),
      h('button', { onClick: sendMessage }, 'Send')));
}

/** What the rendered tree shows: [{role, content, processing}] for each message div. */
function renderedMessages(renderer) {
  const list = renderer.root.findAll((n) => n.type === 'div' && n.props.className === 'messages')[0];
  return list.children.filter((n) => typeof n !== 'string').map((div) => {
    const p = div.findByType('p');
    const text = p.children.join('');
    return { role: div.props.className, content: text, processing: div.findAllByType('span').some((s) => s.children.join('') === '...') };
  });
}

/** Lets the client's socket deliver updates inside act(), until pred(rendered) holds. */
async function renderUntil(renderer, pred, what, seen, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const r = renderedMessages(renderer);
    seen?.(r);
    if (pred(r)) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; rendered: ${show(r)}`);
    // eslint-disable-next-line no-await-in-loop
    await act(async () => { await sleep(25); });
  }
}

test('AIConversation: send creates "New Chat", posts the message, and renders the streamed reply until completed', async () => {
  const user = newUser('react');
  const token = ctx.token(user);
  const rest = restClient(ctx.server, token);
  const projectId = expectOk(await rest.post('/api/projects', { name: 'react project' })).projectId;

  const text = words(30, 'rx');
  await ctx.primary.script([{ type: 'text', text, chunks: 10, delayMs: 200 }]);

  const { rec, log, options } = clientOptions();
  const client = new ConvexReactClient(ctx.server.url, options);
  clients.add(client);
  const authChanges = [];
  client.setAuth(async () => token, (v) => authChanges.push(v));

  let sent = null;
  let renderer;
  await act(async () => {
    renderer = create(h(ConvexProvider, { client }, h(AIConversation, { projectId, baseUrl: ctx.server.url, token, onSent: (s) => { sent = s; } })));
  });
  assert.deepEqual(renderedMessages(renderer), [], 'nothing rendered before a conversation exists ("skip")');

  const input = renderer.root.findByType('input');
  await act(async () => { input.props.onChange({ target: { value: 'Build me a todo app' } }); });
  assert.equal(renderer.root.findByType('input').props.value, 'Build me a todo app');

  await act(async () => { await renderer.root.findByType('button').props.onClick(); });
  assert.ok(sent, 'sendMessage finished');
  assert.equal(sent.status, 200, show(sent));
  assert.equal(sent.body.success, true);
  expectId(sent.convId, 'cnv', 'createConversation result');
  expectId(sent.body.messageId, 'msg');
  assert.equal(renderer.root.findByType('input').props.value, '', 'the input is cleared after sending');

  // The conversation was created by useMutation with the seed's title.
  const convs = expectOk(await rest.get(`/api/projects/${projectId}/conversations`));
  assert.deepEqual(convs.map((x) => [x._id, x.title]), [[sent.convId, 'New Chat']]);

  const partial = new Set();
  const final = await renderUntil(renderer, (r) => r.length === 2 && r[1].content === text && !r[1].processing,
    'the completed assistant reply', (r) => {
      const a = r.find((m) => m.role === 'assistant');
      if (a && a.processing && a.content) {
        assert.ok(text.startsWith(a.content), `rendered partial content must be a prefix: ${show(a.content)}`);
        partial.add(a.content);
      }
    });
  assert.deepEqual(final, [
    { role: 'user', content: 'Build me a todo app', processing: false },
    { role: 'assistant', content: text, processing: false },
  ]);
  assert.ok(partial.size >= 3, `the reply should render while streaming (>= 3 partial contents), saw ${partial.size}: ${show([...partial])}`);

  const msgs = await getMessages(rest, sent.convId);
  assert.equal(msgs.at(-1).status, 'completed');
  assert.equal(msgs.at(-1).content, text);
  assert.deepEqual(authChanges, [true]);

  await act(async () => { renderer.unmount(); });
  clients.delete(client);
  await client.close();
  assertProtocolInvariants(rec);
  assert.deepEqual(log.lines.filter((l) => /FATAL|Invalid start version/i.test(l.text)), []);
});
