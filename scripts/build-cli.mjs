// Bundles the `burrow` command to out/cli/burrow.mjs (dependencies stay
// external), so it starts without compiling TypeScript: faster, and ~35 MB
// less resident memory per process than running under tsx.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main/cli/main.ts'],
  outfile: 'out/cli/burrow.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
