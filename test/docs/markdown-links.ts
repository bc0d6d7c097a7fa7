import { withoutFencedBlocks } from './markdown-blocks.js';

/** A link of a markdown page: `[text](target)`, `![alt](target)` or `[label]: target`. */
export interface MarkdownLink {
  target: string;
  /** 1-based line of the page. */
  line: number;
}

const HEADING = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(?:<([^>]*)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/;
const CODE_SPAN = /(`+)[^`]*?\1/g;

/** The heading's text as rendered: code spans, links and emphasis reduced to their text. */
function headingText(source: string): string {
  return source
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/[*]/g, '');
}

/** GitHub's anchor of a heading (github-slugger): lower case, punctuation dropped, spaces to '-'. */
export function slug(heading: string): string {
  return headingText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page's headings get, a repeated one with -1, -2, … as GitHub numbers them. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutFencedBlocks(markdown).split('\n')) {
    const heading = HEADING.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The page's links, outside code blocks and code spans. */
export function links(markdown: string): MarkdownLink[] {
  const result: MarkdownLink[] = [];
  withoutFencedBlocks(markdown)
    .split('\n')
    .forEach((text, index) => {
      const line = text.replace(CODE_SPAN, (span) => ' '.repeat(span.length));
      const definition = REFERENCE_DEFINITION.exec(line);
      if (definition) result.push({ target: definition[1], line: index + 1 });
      for (const match of line.matchAll(INLINE_LINK)) result.push({ target: match[1] ?? match[2], line: index + 1 });
    });
  return result;
}
