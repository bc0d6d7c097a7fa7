import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { fencedBlocks, isTypeScript } from './markdown-blocks.js';

/** A markdown page, by its path from the repository's root. */
export interface DocPage {
  file: string;
  text: string;
}

/** A TypeScript block that does not compile. */
export interface BlockFailure {
  /** The page, and the page's line the diagnostic points at. */
  file: string;
  line: number;
  message: string;
}

/**
 * The package's own entry points ('nestjs-pindb', 'nestjs-pindb/testing', …), read from
 * package.json's "exports" and mapped to their sources in lib/, so the docs compile against the
 * code as it is, without a build.
 */
function entryPointPaths(root: string): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  const paths: Record<string, string[]> = {};
  for (const subpath of Object.keys(pkg.exports)) {
    if (subpath === '.') paths[pkg.name] = ['./lib/index.ts'];
    else if (!subpath.endsWith('.json')) paths[`${pkg.name}/${subpath.slice(2)}`] = [`./lib/${subpath.slice(2)}/index.ts`];
  }
  return paths;
}

/** tsconfig.json's options (strict, decorators, NodeNext), checking only: each block is a module of its own. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configFile = join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  config.compilerOptions = { ...config.compilerOptions, paths: entryPointPaths(root) };
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configFile);
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    // A block without imports is still a module: blocks never see each other's declarations.
    moduleDetection: ts.ModuleDetectionKind.Force,
  };
}

/**
 * Compiles every ```ts / ```typescript block of the pages, each as a file of its own, in one
 * program (the libraries' declarations are read and checked once for all blocks). Returns the
 * blocks' diagnostics, each at its page and line.
 */
export function typecheckBlocks(root: string, pages: DocPage[]): BlockFailure[] {
  const options = compilerOptions(root);
  const virtual = new Map<string, { page: DocPage; line: number; code: string }>();
  for (const page of pages) {
    for (const block of fencedBlocks(page.text).filter(isTypeScript)) {
      // Under the root, so that packages resolve from its node_modules; never written to disk.
      const fileName = join(root, 'test/docs/.blocks', `${page.file.replace(/[/\\]/g, '__')}-L${block.line}.ts`);
      virtual.set(fileName, { page, line: block.line, code: block.code });
    }
  }
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getCurrentDirectory = () => root;
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName)?.code ?? readFile.call(host, fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const block = virtual.get(fileName);
    return block
      ? ts.createSourceFile(fileName, block.code, languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);

  const failures: BlockFailure[] = program
    .getOptionsDiagnostics()
    .map((d) => ({ file: 'tsconfig.json', line: 0, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
  for (const [fileName, block] of virtual) {
    const sourceFile = program.getSourceFile(fileName)!;
    for (const diagnostic of [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]) {
      const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      failures.push({ file: block.page.file, line: block.line + line, message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') });
    }
  }
  return failures;
}
