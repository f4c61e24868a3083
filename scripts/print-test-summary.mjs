// Prints "tests: N passed, N failed" from vitest's JSON report, so CI logs
// end with one plain line whatever the reporter printed above it.
import { existsSync, readFileSync } from 'node:fs';

const report = 'test-results/vitest.json';
if (!existsSync(report)) {
  console.log('tests: 0 passed, 0 failed (no report: the test run did not start)');
  process.exit(0);
}
const { numPassedTests, numFailedTests, numPendingTests } = JSON.parse(readFileSync(report, 'utf8'));
console.log(`tests: ${numPassedTests} passed, ${numFailedTests} failed${numPendingTests ? `, ${numPendingTests} skipped` : ''}`);
