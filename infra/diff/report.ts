import type { Violation } from "../boundary/rules";
import { denyRuleResult } from "../report/deny-rules";
import type { DiffReport, PermissionDiff } from "./model";
import type { ResourceDiff } from "./resources";

/** The diff with what it compared and the deny rules on the new roster: what `diff` prints, and its `--json`. */
export function diffReport(
  diff: PermissionDiff,
  compared: { base: string; roster: string; baseRoster: string; stackConfig: string },
  violations: readonly Violation[],
  resources?: ResourceDiff,
): DiffReport {
  return {
    base: compared.base, roster: compared.roster, baseRoster: compared.baseRoster, stackConfig: compared.stackConfig,
    ...diff, denyRules: denyRuleResult(violations), ...(resources === undefined ? {} : { resources }),
  };
}
