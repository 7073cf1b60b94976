import { declaredWriters } from "../audit/declared";
import { runLiveAudit, withLiveAudit, type LiveAuditCliOptions } from "../audit/live-command";
import { runSnowflakeLiveAudit, SNOWFLAKE_LIVE_HELP } from "../audit/snowflake/command";
import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { auditReport, renderAudit } from "../report/audit";
import { exitCodeFor, printReport, readRoster, rosterCommand, type CommonOptions } from "./command";

withLiveAudit(rosterCommand("audit", "Answer \"who can write to prod?\": for every prod schema, each principal that can write, through which role chain, and whether by grant or ownership. Reads the declared boundary; no warehouse needed."))
  .action((options: CommonOptions & LiveAuditCliOptions) => {
    const roster = readRoster(options.roster);
    if (roster === undefined) return;
    const boundary = buildBoundary(roster);
    const violations = checkBoundary(boundary);
    if (options.live === "snowflake") return runSnowflakeLiveAudit(options, boundary, violations);
    if (options.live !== undefined || options.provisioner !== undefined) return runLiveAudit(options, boundary, violations);
    printReport(options, auditReport(declaredWriters(boundary), violations, options.roster), renderAudit);
    process.exitCode = exitCodeFor(violations);
  })
  .addHelpText("after", SNOWFLAKE_LIVE_HELP)
  .parse();
