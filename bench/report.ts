/**
 * Re-renders a recorded run from its JSON (the raw measurements are kept there), e.g. after the report's
 * columns changed: `node --import tsx bench/report.ts bench/results/<run>.json` rewrites the .json and .md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdown, renderText, summarise, type Report } from './lib/report.js';
import { checkTargets } from './lib/target-checks.js';

const file = process.argv[2];
if (!file || !file.endsWith('.json')) {
  process.stderr.write('usage: node --import tsx bench/report.ts bench/results/<run>.json\n');
  process.exit(1);
}
const recorded = JSON.parse(readFileSync(file, 'utf8')) as Report;
const scenarios = recorded.scenarios.map((scenario) => ({ name: scenario.scenario, description: scenario.description }));
const summaries = summarise(recorded.measurements, scenarios);
const report: Report = {
  ...recorded,
  scenarios: summaries,
  targets: checkTargets(summaries, recorded.soak, Number(recorded.meta.rate), Number(recorded.meta.connections)),
};
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(file.replace(/\.json$/, '.md'), renderMarkdown(report));
process.stdout.write(`${renderText(report)}\n`);
