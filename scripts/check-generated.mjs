// Fails when src/main/gen differs from what `npm run gen` makes of proto/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const committed = 'src/main/gen';
const scratch = mkdtempSync(join(tmpdir(), 'burrow-gen-'));

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

try {
  execFileSync('npx', ['buf', 'generate', '--output', scratch], { stdio: 'inherit' });
  const fresh = join(scratch, committed);
  const freshFiles = listFiles(fresh).map((f) => relative(fresh, f)).sort();
  const committedFiles = listFiles(committed).map((f) => relative(committed, f)).sort();
  const stale = [...new Set([...freshFiles, ...committedFiles])].filter((file) => {
    try {
      return !readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file)));
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`generated code is stale; run \`npm run gen\` and commit. Differs: ${stale.join(', ')}`);
    process.exit(1);
  }
  console.log(`generated code is up to date (${freshFiles.length} file(s))`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
