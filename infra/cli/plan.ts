import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { planReport } from "../report/plan";
import { renderPlan } from "../report/plan-text";
import { exitCodeFor, printReport, readRoster, rosterCommand, type CommonOptions } from "./command";

rosterCommand("plan", "Show the access boundary the roster declares: each developer's schemas, who writes and reads each prod schema, the service accounts, totals and the deny rules.")
  .action((options: CommonOptions) => {
    const roster = readRoster(options.roster);
    if (roster === undefined) return;
    const boundary = buildBoundary(roster);
    const violations = checkBoundary(boundary);
    printReport(options, planReport(boundary, violations, options.roster), renderPlan);
    process.exitCode = exitCodeFor(violations);
  })
  .parse();
