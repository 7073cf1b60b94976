import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { declareResources } from "../platforms/declare";
import { planReport } from "../report/plan";
import { renderPlan } from "../report/plan-text";
import { managedResources } from "../report/resources";
import { exitCodeFor, printReport, readRoster, readStackSettings, rosterCommand, type CommonOptions } from "./command";

rosterCommand("plan", "Show the access boundary the roster declares: each developer's schemas, who writes and reads each prod schema, the service accounts, totals, the resources `pulumi up` would manage, and the deny rules.")
  .option("--stack-config <path>", "Pulumi stack configuration naming the platforms", "Pulumi.prod.yaml")
  .option("--resources", "also list every resource `pulumi up` would manage: type, name, key inputs, protected/retained (--json always includes them, with every input and option)")
  .action((options: CommonOptions & { stackConfig: string; resources?: boolean }) => {
    const roster = readRoster(options.roster);
    const settings = readStackSettings(options.stackConfig);
    if (roster === undefined || settings === undefined) return;
    const boundary = buildBoundary(roster);
    const violations = checkBoundary(boundary);
    const resources = managedResources(declareResources(boundary, settings), options.stackConfig, options.json === true || options.resources === true);
    printReport(options, planReport(boundary, violations, resources, options.roster), (report) => renderPlan(report, { resources: options.resources === true }));
    process.exitCode = exitCodeFor(violations);
  })
  .parse();
