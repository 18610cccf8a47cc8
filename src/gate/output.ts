import type { Check, CheckStatus } from './checks.js';
import type { GateResult } from './gate.js';

const ICON: Record<CheckStatus, string> = { pass: '✅ pass', fail: '❌ fail', inconclusive: '⚠️ inconclusive', skipped: '➖ skipped' };

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown summary for a CI job page. */
export function gateMarkdown(result: GateResult): string {
  const { speed } = result.config;
  const lines = [
    `## hil gate: ${result.verdict === 'pass' ? 'pass' : 'REGRESSION'}`,
    '',
    `Speed: one-sided Mann–Whitney U at α = ${speed.alpha} and a minimum effect of ${(speed.minEffect * 100).toFixed(1)} % on ${speed.metric}.`,
    '',
    '| Configuration | Check | Result | Detail |',
    '|---|---|---|---|',
    ...result.checks.map((c) => `| ${mdCell(c.group)} | ${c.name} | ${ICON[c.status]} | ${mdCell(c.message)} |`),
  ];
  if (result.warnings.length) lines.push('', '**Compared across environments (--allow-env-mismatch):**', ...result.warnings.map((w) => `- ${w}`));
  return `${lines.join('\n')}\n`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one test case per check; inconclusive and skipped checks are skipped cases. */
export function gateJunit(result: GateResult): string {
  const bySuite = new Map<string, Check[]>();
  for (const c of result.checks) bySuite.set(c.group, [...(bySuite.get(c.group) ?? []), c]);
  const count = (cs: Check[], s: CheckStatus[]) => cs.filter((c) => s.includes(c.status)).length;
  const suites = [...bySuite].map(([group, cs]) => {
    const cases = cs.map((c) => {
      const body =
        c.status === 'fail'
          ? `<failure message="${xml(c.message)}" type="regression"/>`
          : c.status === 'inconclusive' || c.status === 'skipped'
            ? `<skipped message="${xml(`${c.status}: ${c.message}`)}"/>`
            : `<system-out>${xml(c.message)}</system-out>`;
      return `    <testcase classname="hil.gate.${xml(group)}" name="${xml(c.name)}">${body}</testcase>`;
    });
    return [
      `  <testsuite name="${xml(group)}" tests="${cs.length}" failures="${count(cs, ['fail'])}" skipped="${count(cs, ['inconclusive', 'skipped'])}" errors="0">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  const all = result.checks;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="hil gate" tests="${all.length}" failures="${count(all, ['fail'])}" skipped="${count(all, ['inconclusive', 'skipped'])}" errors="0">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export function gateJson(result: GateResult): string {
  return `${JSON.stringify({ schema: 'hil.gate/1', ...result }, null, 2)}\n`;
}
