// The editor's dark look, matching the page's colours (styles.css), and its syntax colours.
import { EditorView } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

const chrome = EditorView.theme(
  {
    '&': { color: 'var(--text)', backgroundColor: 'var(--bg)', height: '100%', fontSize: '13px' },
    '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
    '.cm-content': { caretColor: 'var(--accent)' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--accent)', borderLeftWidth: '2px' },
    '&.cm-focused': { outline: 'none' },
    '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection':
      { backgroundColor: '#2b4a7a' },
    '.cm-activeLine': { backgroundColor: 'rgba(110, 168, 254, 0.06)' },
    '.cm-gutters': { backgroundColor: 'var(--bg)', color: '#5d6577', border: 'none', borderRight: '1px solid var(--border)' },
    '.cm-activeLineGutter': { backgroundColor: 'rgba(110, 168, 254, 0.08)', color: 'var(--text)' },
    '.cm-matchingBracket, &.cm-focused .cm-matchingBracket': { backgroundColor: 'rgba(95, 211, 154, 0.22)', outline: 'none' },
    '.cm-nonmatchingBracket, &.cm-focused .cm-nonmatchingBracket': { backgroundColor: 'rgba(240, 113, 123, 0.3)' },
    '.cm-searchMatch': { backgroundColor: 'rgba(242, 196, 100, 0.25)', outline: '1px solid rgba(242, 196, 100, 0.5)' },
    '.cm-searchMatch.cm-searchMatch-selected': { backgroundColor: 'rgba(242, 196, 100, 0.45)' },
    '.cm-selectionMatch': { backgroundColor: 'rgba(110, 168, 254, 0.15)' },
    '.cm-panels': { backgroundColor: 'var(--panel)', color: 'var(--text)' },
    '.cm-panels.cm-panels-top': { borderBottom: '1px solid var(--border)' },
    '.cm-panels.cm-panels-bottom': { borderTop: '1px solid var(--border)' },
    '.cm-panel.cm-search': { padding: '6px 8px', fontFamily: 'inherit' },
    '.cm-panel.cm-search input, .cm-panel.cm-search button, .cm-panel.cm-search label': { fontSize: '12px' },
    '.cm-textfield': { backgroundColor: 'var(--bg)', border: '1px solid var(--border)', borderRadius: '4px', color: 'var(--text)' },
    '.cm-button': { backgroundImage: 'none', backgroundColor: 'var(--panel-2)', border: '1px solid var(--border)', borderRadius: '4px', color: 'var(--text)' },
    '.cm-tooltip': { backgroundColor: 'var(--panel-2)', border: '1px solid var(--border)', color: 'var(--text)' },
    '.cm-foldPlaceholder': { backgroundColor: 'var(--panel-2)', border: 'none', color: 'var(--muted)' },
  },
  { dark: true },
);

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword, t.definitionKeyword, t.modifier], color: '#c792ea' },
  { tag: [t.string, t.special(t.string), t.regexp], color: '#a5d6a7' },
  { tag: [t.number, t.bool, t.null, t.atom], color: '#f2a66e' },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: '#6b7488', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: '#82aaff' },
  { tag: [t.definition(t.variableName), t.definition(t.propertyName)], color: '#e6e8ee' },
  { tag: [t.typeName, t.className, t.namespace], color: '#ffcb6b' },
  { tag: [t.propertyName, t.attributeName], color: '#89ddff' },
  { tag: [t.tagName], color: '#f07178' },
  { tag: [t.operator, t.punctuation, t.separator, t.bracket], color: '#a9b1c6' },
  { tag: [t.meta, t.annotation, t.processingInstruction], color: '#9aa2b4' },
  { tag: t.heading, color: '#82aaff', fontWeight: 'bold' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strong, fontWeight: 'bold' },
  { tag: t.link, color: '#6ea8fe', textDecoration: 'underline' },
  { tag: t.url, color: '#6ea8fe' },
  { tag: t.strikethrough, textDecoration: 'line-through' },
  { tag: t.invalid, color: '#f0717b' },
]);

export const editorTheme = [chrome, syntaxHighlighting(highlight)];
