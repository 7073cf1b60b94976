import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { buildBoundary } from "../boundary/build";
import { ROSTER_MACRO_FILE, packageRoster, rosterMacro } from "../dbt/package";
import { ExitCode, printFailure, readRoster, readStackSettings, scriptCommand } from "./command";

// `npm run dbt-package`: rewrites dbt/macros/roster.sql, what the dbt package knows of team.yaml. Run it with every roster change.

const HELP = `
The dbt package in dbt/ checks schema names against the roster's domains and developers; this writes them into
${ROSTER_MACRO_FILE}. \`npm test\` fails while the checked-in file is stale.

Exit codes:
  0  written
  2  invalid input: a bad option, or roster or stack problems on stderr`;

scriptCommand("dbt-package", "Regenerate the dbt package's roster macro (dbt/macros/roster.sql) from team.yaml and the stack.", HELP)
  .option("--roster <path>", "team roster to read", "team.yaml")
  .option("--stack-config <path>", "Pulumi stack configuration", "Pulumi.prod.yaml")
  .action((options: { roster: string; stackConfig: string }) => {
    const roster = readRoster(options.roster);
    const settings = readStackSettings(options.stackConfig);
    if (roster === undefined || settings === undefined) return;
    const file = join(__dirname, "..", "..", ROSTER_MACRO_FILE);
    writeFileSync(file, rosterMacro(packageRoster(buildBoundary(roster), settings), `${basename(options.roster)} and ${basename(options.stackConfig)}`));
    process.stdout.write(`wrote ${ROSTER_MACRO_FILE}\n`);
    process.exitCode = ExitCode.ok;
  })
  .parseAsync()
  .catch(printFailure("dbt-package"));
