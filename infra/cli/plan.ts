import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { declareResources } from "../platforms/declare";
import { planReport } from "../report/plan";
import { renderPlan } from "../report/plan-text";
import { managedResources } from "../report/resources";
import { exitCodeFor, printReport, readRoster, readStackSettings, rosterCommand, type CommonOptions } from "./command";

rosterCommand("plan", "Show the access boundary the roster declares: each developer's schemas, who writes and reads each prod schema, the service accounts, totals, the resources `pulumi up` would manage, and the deny rules.")
  .option("--stack-config <path>", "Pulumi stack configuration naming the platforms", "Pulumi.prod.yaml")
  .action(async (options: CommonOptions & { stackConfig: string }) => {
    const roster = readRoster(options.roster);
    const settings = readStackSettings(options.stackConfig);
    if (roster === undefined || settings === undefined) return;
    const boundary = buildBoundary(roster);
    const violations = checkBoundary(boundary);
    const resources = managedResources(declareResources(boundary, settings), options.stackConfig);
    printReport(options, planReport(boundary, violations, resources, options.roster), renderPlan);
    process.exitCode = exitCodeFor(violations);
  })
  .parseAsync();
