// Assistant replies are model output, so untrusted: Markdown becomes HTML with raw HTML
// shown as text (a reply that says "<script>" means the word, not the tag), and the result
// goes through DOMPurify anyway, which also drops javascript: and other unsafe URLs.
// Images are shown as links (see below).
import { Marked } from 'marked';
import createDOMPurify from 'dompurify';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({ gfm: true, breaks: true, async: false });
// Images become links: the page's CSP loads images from its own origin only, so an image from
// elsewhere would be a broken picture and a console error.
marked.use({
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

// A private instance, so the link hook below touches no other sanitizing on the page.
const purify = createDOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return purify.sanitize(html);
}
