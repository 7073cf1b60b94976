import { declaredWriters } from "../audit/declared";
import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { auditReport, renderAudit } from "../report/audit";
import { exitCodeFor, printReport, readRoster, rosterCommand, type CommonOptions } from "./command";

rosterCommand("audit", "Answer \"who can write to prod?\": for every prod schema, each principal that can write, through which role chain, and whether by grant or ownership. Reads the declared boundary; no warehouse needed.")
  .action((options: CommonOptions) => {
    const roster = readRoster(options.roster);
    if (roster === undefined) return;
    const boundary = buildBoundary(roster);
    const violations = checkBoundary(boundary);
    printReport(options, auditReport(declaredWriters(boundary), violations, options.roster), renderAudit);
    process.exitCode = exitCodeFor(violations);
  })
  .parse();
