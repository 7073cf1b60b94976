import { RULES, type Rule, type Violation } from "../boundary/rules";
import { alignColumns, count } from "./columns";

/** The outcome of the deny rules on one boundary, as every report states it. */
export interface DenyRuleResult {
  /** True when no rule is violated. */
  holds: boolean;
  rules: { rule: Rule; statement: string; violations: number }[];
  violations: Violation[];
}

const ruleNames = Object.keys(RULES) as Rule[];

export function denyRuleResult(violations: readonly Violation[]): DenyRuleResult {
  return {
    holds: violations.length === 0,
    rules: ruleNames.map((rule) => ({ rule, statement: RULES[rule], violations: violations.filter((v) => v.rule === rule).length })),
    violations: [...violations],
  };
}

/** "Deny rules D1–D5: all hold", or that line's count followed by one line per violation; `title` replaces "Deny rules". */
export function renderDenyRules(result: DenyRuleResult, title = "Deny rules"): string[] {
  const span = `${result.rules[0]?.rule ?? ""}–${result.rules.at(-1)?.rule ?? ""}`;
  if (result.holds) return [`${title} ${span}: all hold`];
  const broken = result.rules.filter((r) => r.violations > 0);
  return [
    `${title} ${span}: ${count(result.violations.length, "violation")}`,
    ...broken.flatMap((r) => [
      `  ${r.rule} ${r.statement}`,
      ...alignColumns(result.violations.filter((v) => v.rule === r.rule).map((v) => [v.subject, v.message]), "      "),
    ]),
  ];
}
