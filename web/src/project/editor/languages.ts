// Syntax support chosen by the file's extension; files of other kinds get plain text. Each
// grammar is its own chunk, loaded the first time a file of its kind opens: together they are
// a fifth of the page's script, and most sessions need one or two.
import type { Extension } from '@codemirror/state';

export type LanguageInfo = { label: string; create: () => Promise<Extension> };

const javascript = async (o?: { jsx?: boolean; typescript?: boolean }) =>
  (await import('@codemirror/lang-javascript')).javascript(o);
const python = async () => (await import('@codemirror/lang-python')).python();
const html = async () => (await import('@codemirror/lang-html')).html();
const css = async () => (await import('@codemirror/lang-css')).css();
const json = async () => (await import('@codemirror/lang-json')).json();
const markdown = async () => (await import('@codemirror/lang-markdown')).markdown();

export function languageFor(fileName: string): LanguageInfo {
  const ext = /\.([^./]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  switch (ext) {
    case 'js':
    case 'mjs':
    case 'cjs':
      return { label: 'JavaScript', create: () => javascript() };
    case 'jsx':
      return { label: 'JavaScript JSX', create: () => javascript({ jsx: true }) };
    case 'ts':
    case 'mts':
    case 'cts':
      return { label: 'TypeScript', create: () => javascript({ typescript: true }) };
    case 'tsx':
      return { label: 'TypeScript JSX', create: () => javascript({ jsx: true, typescript: true }) };
    case 'py':
    case 'pyw':
      return { label: 'Python', create: () => python() };
    case 'html':
    case 'htm':
      return { label: 'HTML', create: () => html() };
    case 'css':
      return { label: 'CSS', create: () => css() };
    case 'json':
      return { label: 'JSON', create: () => json() };
    case 'md':
    case 'markdown':
      return { label: 'Markdown', create: () => markdown() };
    default:
      return { label: 'Plain text', create: async () => [] };
  }
}
