// Bundles the `burrow` command to out/cli/burrow.mjs (dependencies stay
// external), so it starts without compiling TypeScript: faster, and ~35 MB
// less resident memory per process than running under tsx. Split into
// chunks, so what a command imports only when asked (the cluster's Redis
// client) is not loaded otherwise.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunks of an earlier build would linger beside the new ones.
rmSync('out/cli', { recursive: true, force: true });

await build({
  entryPoints: { burrow: 'src/main/cli/main.ts' },
  outdir: 'out/cli',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
