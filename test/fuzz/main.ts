/**
 * `npm run fuzz`: schemathesis against /openapi.json (run.ts), at least 1,000 test cases by
 * default. Writes results/fuzz.json (and the JUnit report beside it); exits non-zero on any
 * server error, response that breaks the spec, or schema-valid request refused (ST202).
 *
 *   npm run fuzz [-- --max-examples=40 --seed=1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../e2e/system.js';
import { runFuzz } from './run.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const reportDir = join(REPO_ROOT, 'results/fuzz');
mkdirSync(reportDir, { recursive: true });
const report = await runFuzz({ maxExamples: Number(arg('max-examples', '40')), seed: Number(arg('seed', '1')), reportDir });
writeFileSync(join(REPO_ROOT, 'results/fuzz.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${report.summary}\n`);
process.stdout.write(
  `fuzz: ${report.cases} test cases over ${report.operations} operations in ${report.seconds} s (${report.errored} without a response to check); server errors ${report.serverErrors}; ` +
    `spec-breaking responses ${report.gateFailures}; schema-valid requests refused ${report.rejected}; other findings ${JSON.stringify(report.failures)}\n`,
);
if (!(report.cases >= 1) || report.gateFailures > 0 || report.serverErrors > 0 || report.rejected > 0 || report.errored > 0)
  process.exitCode = 1;
