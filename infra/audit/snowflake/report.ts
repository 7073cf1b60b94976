import type { Violation } from "../../boundary/rules";
import { alignColumns, count } from "../../report/columns";
import { denyRuleResult, renderDenyRules, type DenyRuleResult } from "../../report/deny-rules";
import type { PathStatus } from "../live";
import type { SnowflakeLiveAudit, SnowflakeWritePath } from "./audit";

// What `audit --live snowflake` prints: per prod schema, every role and user that can write and how, each marked
// declared, admin or DRIFT, with where each fact was read and how fresh it is. The report object is the `--json` output.

export interface SnowflakeLiveAuditReport extends SnowflakeLiveAudit {
  roster: string;
  denyRules: DenyRuleResult;
}

export const snowflakeLiveAuditReport = (audit: SnowflakeLiveAudit, violations: readonly Violation[], roster = "team.yaml"): SnowflakeLiveAuditReport => ({
  ...audit,
  roster,
  denyRules: denyRuleResult(violations),
});

const objectsText = (w: SnowflakeWritePath): string => {
  const more = w.objectCount > w.objects.length ? ", …" : "";
  return w.objectCount <= 1 ? (w.objects[0] ?? "") : `${count(w.objectCount, "object")} (${w.objects.join(", ")}${more})`;
};

/** The power in words, with ACCOUNT_USAGE facts marked as possibly stale. */
export function snowflakePowerText(w: SnowflakeWritePath): string {
  const stale = w.source === "ACCOUNT_USAGE" ? " [account usage]" : "";
  switch (w.power) {
    case "schema owner": return "owns the schema (alter, drop, grant)";
    case "schema privilege": return `${w.privilege} on the schema`;
    case "object owner": return `owns ${objectsText(w)}${stale}`;
    case "object privilege": return `${w.privilege} on ${objectsText(w)}${stale}`;
    case "future grant (schema)": return `${w.privilege} on ${objectsText(w)} (schema future grant)`;
    case "future grant (database)": return `${w.privilege} on ${objectsText(w)} (database future grant)`;
    case "MANAGE GRANTS": return `MANAGE GRANTS: can grant itself anything${stale}`;
    case "CREATE SCHEMA on database": return "CREATE SCHEMA on the database: can create, or rename one to, a PROD_ schema";
    case "database owner": return "owns the database (can drop it, prod schemas included)";
  }
}

const POWER_ORDER: SnowflakeWritePath["power"][] = [
  "MANAGE GRANTS", "database owner", "schema owner", "CREATE SCHEMA on database", "schema privilege", "object owner",
  "object privilege", "future grant (schema)", "future grant (database)",
];
const STATUS: Record<PathStatus, string> = { declared: "declared", admin: "admin", drift: "DRIFT" };
const WORST: PathStatus[] = ["drift", "admin", "declared"];
const REACH: Record<SnowflakeWritePath["reach"], string> = {
  self: "", inherits: "inherits", "USE ROLE": "USE ROLE", "secondary roles": "secondary roles: always active",
};

function rowsOf(writers: readonly SnowflakeWritePath[]): string[][] {
  const groups = new Map<string, SnowflakeWritePath[]>();
  for (const w of writers) {
    const id = w.chain.join("\u0000");
    groups.set(id, [...(groups.get(id) ?? []), w]);
  }
  const rank = (paths: SnowflakeWritePath[]) => WORST.findIndex((s) => paths.some((p) => p.status === s));
  return [...groups.values()].sort((a, b) => rank(a) - rank(b) || a[0]!.chain.length - b[0]!.chain.length).map((paths) => {
    const first = paths[0]!;
    const status = WORST.find((s) => paths.some((p) => p.status === s))!;
    const chain = first.chain.length > 1 ? `${first.chain.join(" → ")} (${REACH[first.reach]})` : "—";
    const sorted = [...paths].sort((a, b) => POWER_ORDER.indexOf(a.power) - POWER_ORDER.indexOf(b.power));
    // The writer's nine CREATE privileges read as one item.
    const onSchema = sorted.filter((p) => p.power === "schema privilege").map((p) => p.privilege ?? "");
    const creates = onSchema.filter((p) => p.startsWith("CREATE ")).map((p) => p.slice("CREATE ".length));
    const schemaText = [...(creates.length > 0 ? [`CREATE ${creates.join(", ")}`] : []), ...onSchema.filter((p) => !p.startsWith("CREATE "))].join(", ");
    const powers = [...new Set(sorted.map((p) => (p.power === "schema privilege" ? `${schemaText} on the schema` : snowflakePowerText(p))))];
    const because = [...new Set(paths.filter((p) => p.status === status).map((p) => p.because))].join("; ");
    return [STATUS[status], first.principal, first.principalKind, chain, powers.join("; "), because];
  });
}

export function renderSnowflakeLiveAudit(report: SnowflakeLiveAuditReport): string {
  const lines = [
    `Who can write to prod schemas, read live from Snowflake database ${report.database}, compared with the boundary ${report.roster} declares.`,
    `Admin paths: through ${report.adminRoles.join(", ")} (provisioner role ${report.provisionerRole}, adminRole ${report.adminRole}).`,
    `Read in ${report.statements} statements: ${report.statementFormula}.`,
    report.freshness,
    "",
  ];
  const table: string[][] = [["schema", "status", "writer", "kind", "role chain", "can", "why"]];
  for (const s of report.schemas) {
    const name = `${s.schema}${s.declared ? (s.restricted ? " (restricted)" : "") : " (NOT IN ROSTER)"}`;
    const rows = rowsOf(s.writers);
    if (rows.length === 0) table.push([name, "", "nobody", "", "", "", ""]);
    rows.forEach((row, i) => table.push([i === 0 ? name : "", ...row]));
  }
  lines.push(...alignColumns(table), "");
  const drifted = report.schemas.flatMap((s) => s.writers.filter((w) => w.status === "drift").map((w) => ({ s, w })));
  if (report.missingSchemas.length > 0) lines.push(`DRIFT: declared but missing from the database: ${report.missingSchemas.join(", ")}`);
  if (report.undeclaredSchemas.length > 0) lines.push(`DRIFT: prod schemas the roster does not declare: ${report.undeclaredSchemas.join(", ")}`);
  if (report.unmanagedSchemas.length > 0)
    lines.push(`DRIFT: prod schemas without MANAGED ACCESS (object owners can grant onward, D7): ${report.unmanagedSchemas.join(", ")}`);
  if (drifted.length > 0) {
    const principals = new Set(drifted.map(({ w }) => w.principal));
    const schemas = new Set(drifted.map(({ s }) => s.schema));
    lines.push(`DRIFT: ${count(drifted.length, "write path")} the boundary does not declare, for ${count(principals.size, "role or user", "roles or users")} on ${count(schemas.size, "prod schema")}: ${[...principals].join(", ")}`);
  }
  if (report.drift === 0) lines.push("No drift: only declared writers and admin paths can write to prod schemas.");
  lines.push(...renderDenyRules(report.denyRules));
  return `${lines.join("\n")}\n`;
}
