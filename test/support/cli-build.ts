// The openclaw CLI as a real program for tests that run it in a terminal: src/ transpiled with SWC (no type check,
// about a second), into a temporary directory. Run it with NODE_PATH set to the project's node_modules.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transformFileSync } from '@swc/core';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Transpiles src/ into `outDir`; returns the path of the CLI's entry point and the env its process needs. */
export function buildCli(outDir: string): { main: string; env: Record<string, string> } {
  for (const file of sourceFiles(path.join(PROJECT_ROOT, 'src'))) {
    const { code } = transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: false,
      swcrc: false,
    });
    const target = path.join(outDir, path.relative(PROJECT_ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, code);
  }
  return { main: path.join(outDir, 'src', 'cli', 'main.js'), env: { NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') } };
}
