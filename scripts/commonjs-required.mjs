// An esbuild plugin for the command's bundle: a package it imports
// statically that require() loads as CommonJS (a dual package's CommonJS
// build too, so that every importer shares one copy) is loaded with
// require(), not import. Node imports a CommonJS module from ESM through its
// ESM loader and cjs-module-lexer (to find the module's named exports): Node
// with the command's libraries imported held 64.1 MiB 6 s after start,
// required 58.9; a settled server and agent ~3 MiB less (2026-12-05). An
// import made only when needed (`import()`) is left as it is.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';

// Packages resolve as from the project's own files.
const requireFromRoot = createRequire(import.meta.url);

/** Whether `specifier` is loaded as CommonJS by require() from the project: its file, by its own package scope. */
export function loadsAsCommonJs(specifier) {
  let file;
  try {
    file = requireFromRoot.resolve(specifier);
  } catch {
    return false;
  }
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type !== 'module';
  }
  return true;
}

/** A package name or a path within one: not relative, absolute or a Node built-in. */
const isPackage = (path) => !/^[./]/.test(path) && !isBuiltin(path);

export const commonJsRequired = {
  name: 'commonjs-required',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'import-statement' || !isPackage(args.path) || !loadsAsCommonJs(args.path)) return undefined;
      return { path: args.path, namespace: 'commonjs-required' };
    });
    build.onResolve({ filter: /.*/, namespace: 'commonjs-required' }, (args) => ({ path: args.path, external: true }));
    // A CommonJS module of the bundle's own whose exports are the package's: esbuild's interop then gives
    // the importer its default and named exports, and its `require` call goes to the banner's require.
    build.onLoad({ filter: /.*/, namespace: 'commonjs-required' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
