import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { anchors, links } from './markdown-links.js';
import type { DocPage } from './typecheck-blocks.js';

/** A link that leads nowhere. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;
const LINE_ANCHOR = /^L\d+(-L\d+)?$/;

/**
 * The relative links of the pages that do not resolve: to a path outside the repository, to a
 * file or folder that does not exist, or to a #anchor no heading of the target page has. Links
 * with a scheme (https:, mailto:) are not followed. `pages` are read from memory, other targets
 * from disk.
 */
export function brokenLinks(root: string, pages: DocPage[]): BrokenLink[] {
  const inMemory = new Map(pages.map((page) => [resolve(root, page.file), page.text]));
  const anchorsOf = new Map<string, Set<string>>();
  const pageAnchors = (path: string) => {
    let found = anchorsOf.get(path);
    if (!found) anchorsOf.set(path, (found = anchors(inMemory.get(path) ?? readFileSync(path, 'utf8'))));
    return found;
  };

  const broken: BrokenLink[] = [];
  for (const page of pages) {
    for (const { target, line } of links(page.text)) {
      if (EXTERNAL.test(target)) continue;
      const report = (reason: string) => broken.push({ file: page.file, line, target, reason });
      const [pathPart, anchor] = splitAnchor(target);
      const path = pathPart === '' ? resolve(root, page.file) : resolve(root, dirname(page.file), decodeURI(pathPart));
      const fromRoot = relative(root, path);
      if (fromRoot === '..' || fromRoot.startsWith(`..${sep}`)) {
        report('outside the repository');
        continue;
      }
      if (!inMemory.has(path) && !existsSync(path)) {
        report(`no such file: ${join('.', fromRoot)}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (path.endsWith('.md') && (inMemory.has(path) || statSync(path).isFile())) {
        if (!pageAnchors(path).has(anchor)) report(`no heading #${anchor} in ${fromRoot}`);
      } else if (!LINE_ANCHOR.test(anchor)) {
        report(`#${anchor} on a file that is not a markdown page`);
      }
    }
  }
  return broken;
}

function splitAnchor(target: string): [string, string | undefined] {
  const hash = target.indexOf('#');
  return hash < 0 ? [target, undefined] : [target.slice(0, hash), decodeURIComponent(target.slice(hash + 1))];
}
