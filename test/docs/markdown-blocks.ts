/** A fenced code block of a markdown page. */
export interface FencedBlock {
  /** The info string's first word, lower-cased ('ts', 'sh', ''). */
  lang: string;
  /** 1-based line, in the page, of the block's first line of code. */
  line: number;
  /** The code, with the fence's indentation taken off each line (blocks inside list items). */
  code: string;
  /** 1-based line of the closing fence (the page's last line when the block is not closed). */
  endLine: number;
}

const FENCE_OPEN = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/;

/**
 * The fenced blocks of a page, in order (CommonMark fences: three or more backticks or tildes,
 * closed by a fence of the same character at least as long). An unclosed block runs to the end,
 * as CommonMark says.
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]);
    // A backtick fence's info string has no backtick (CommonMark): "```` ```ts ````" is a code span.
    if (!open || (open[2][0] === '`' && lines[i].slice(open[0].length).includes('`'))) continue;
    const [, indent, fence, info] = open;
    const close = new RegExp(`^ *${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]); j++) {
      code.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    blocks.push({ lang: info.toLowerCase(), line: i + 2, code: code.join('\n'), endLine: Math.min(j + 1, lines.length) });
    i = j;
  }
  return blocks;
}

/** The page with every fenced block's lines blanked (kept as empty lines, so line numbers hold). */
export function withoutFencedBlocks(markdown: string): string {
  const lines = markdown.split('\n');
  for (const block of fencedBlocks(markdown)) {
    for (let k = block.line - 2; k < block.endLine; k++) lines[k] = '';
  }
  return lines.join('\n');
}

const TYPESCRIPT = new Set(['ts', 'typescript']);

export const isTypeScript = (block: FencedBlock): boolean => TYPESCRIPT.has(block.lang);
