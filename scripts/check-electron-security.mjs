// Runs @doyensec/electronegativity over the app's sources and fails on any
// finding not reviewed below. (Its CLI breaks on the hoisted commander, so
// its API is called directly; it cannot reach the network here and says so.)
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity');

/** Findings looked at and accepted, with why. Keyed by check id and file. */
const reviewed = {
  'PRELOAD_JS_CHECK main/app/index.ts': 'the preload exposes only a value transport of contract names (src/preload/index.ts), no ipcRenderer',
  'OPEN_EXTERNAL_JS_CHECK main/app/open-external.ts': 'only http: and https: URLs (public tunnel URLs) are opened, nothing else',
  'CSP_GLOBAL_CHECK main/app/index.ts': 'the tool cannot parse a CSP held in a constant; it is the same policy as renderer/index.html',
  'CSP_GLOBAL_CHECK renderer/index.html': "connect-src allows ws://127.0.0.1:* and ws://localhost:* for the web inspector's own API socket",
};

// Its report file is not read (the findings come back as values): written to a directory removed at exit.
// Not sooner: the tool writes the file after it returns, and throws when the directory is gone (seen in CI).
const scratch = mkdtempSync(join(tmpdir(), 'electronegativity-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const result = await run(
  { input: 'src', output: join(scratch, 'report.csv'), isSarif: false, customScan: [], excludeFromScan: [], isRelative: true, isVerbose: false, electronVersionOverride: '41.7.1', parserPlugins: [] },
  false,
);
const findings = result.issues.map((issue) => ({
  key: `${issue.id} ${issue.file}`,
  where: `${issue.file}:${issue.location?.line ?? ''}`,
  what: `${issue.id} (${issue.severity.name}, ${issue.confidence.name}): ${issue.description}`,
}));
const unreviewed = findings.filter((finding) => !(finding.key in reviewed));
for (const finding of findings) {
  const note = reviewed[finding.key];
  process.stdout.write(`${note ? 'reviewed' : 'NEW     '}  ${finding.where}  ${finding.what}${note ? `\n          accepted: ${note}` : ''}\n`);
}
if (unreviewed.length > 0) {
  process.stderr.write(`electronegativity: ${unreviewed.length} finding(s) need a fix or a reviewed entry in scripts/check-electron-security.mjs\n`);
  process.exit(1);
}
process.stdout.write(`electronegativity: ${findings.length} finding(s), all reviewed\n`);
