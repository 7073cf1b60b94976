import { alignColumns, count } from "./columns";
import { renderDenyRules } from "./deny-rules";
import type { AccessHolder, PlanReport, ProdSchemaPlan } from "./plan";
import { keyInputs, lifecycle, typeName } from "./resources";
import { PROD_WRITER, prodSchemaName } from "../roster/naming";

// `plan` for people: the text a reviewer reads in a pull request.

const NONE = "—";
const RESTRICTED_MARK = "*";

/** The role that holds the access, which is what a reviewer recognises ("through prod_reader"). */
function through(h: AccessHolder): string {
  const role = h.via.at(-1) ?? (h.source === "public" ? "PUBLIC" : "direct grant");
  const how = [h.source === "owner" ? "owner" : "", h.source === "public" && h.via.length > 0 ? "PUBLIC is a member" : ""].filter(Boolean);
  return how.length > 0 ? `${role} (${how.join(", ")})` : role;
}

/** One row per (access, role): the principals that reach this schema through that role. */
function accessRows(schema: ProdSchemaPlan): string[][] {
  const rows: string[][] = [];
  for (const [access, holders] of [["write", schema.writers], ["read", schema.readers]] as const) {
    const byRole = new Map<string, Set<string>>();
    for (const h of holders) byRole.set(through(h), (byRole.get(through(h)) ?? new Set()).add(h.principal));
    if (byRole.size === 0) rows.push(["", access, NONE, "nobody"]);
    for (const [role, principals] of byRole) rows.push(["", access, role, [...principals].join(", ")]);
  }
  const first = rows[0];
  if (first) first[0] = schema.restricted ? `${schema.schema} ${RESTRICTED_MARK}` : schema.schema;
  return rows;
}

/** `--resources`: every resource, one line each, in registration order. */
function resourceLines(report: PlanReport): string[] {
  const list = report.resources.list ?? [];
  return [
    "",
    `Every resource \`pulumi up\` would manage (${list.length}; --json has every input and option)`,
    ...alignColumns([
      ["platform", "type", "name", "lifecycle", "key inputs"],
      ...list.map((r) => [r.platform, typeName(r.type), r.name, lifecycle(r) || NONE, keyInputs(r) || NONE]),
    ]),
  ];
}

export function renderPlan(report: PlanReport, options: { resources?: boolean } = {}): string {
  const t = report.totals;
  const lines: string[] = [
    `Plan for ${report.roster}: ${count(t.developers, "developer")}, ${count(t.serviceAccounts.all, "service account")}, ${count(t.prodSchemas.all, "prod schema")}`,
    "",
    `Developers (${t.developers})`,
    ...alignColumns([
      ["developer", "role", "postgres login", "snowflake user", "restricted reads", "schemas"],
      ...report.developers.map((d) => {
        return [d.name, d.role ?? NONE, d.logins.postgres, d.logins.snowflake, d.restrictedReads.join(", ") || NONE, d.schemas.join(", ") || NONE];
      }),
    ]),
    "",
    `Prod schemas (${t.prodSchemas.all}; ${RESTRICTED_MARK} restricted: readable only by its listed readers and the writer)`,
    ...alignColumns([["schema", "access", "through", "who"], ...report.prodSchemas.flatMap(accessRows)]),
  ];
  const provisionerOwned = report.prodSchemas.filter((s) => s.owner === null).length;
  if (provisionerOwned > 0)
    lines.push(
      `  Writers also read. ${provisionerOwned === t.prodSchemas.all ? "Every prod schema is" : `${count(provisionerOwned, "prod schema is", "prod schemas are")}`} owned by ${PROD_WRITER} on PostgreSQL and by the provisioner that runs \`pulumi up\` on Snowflake (an admin path, see \`npm run audit\`).`,
    );
  lines.push(
    "",
    `Service accounts (${t.serviceAccounts.all})`,
    ...alignColumns([
      ["account", "purpose", "roles", "postgres login", "snowflake user", "key-pair auth"],
      ...report.serviceAccounts.map((a) => [
        a.name, a.purpose ?? NONE, a.roles.join(", ") || NONE, a.logins.postgres, a.logins.snowflake,
        a.keyPairAuth ? "configured" : "missing (add rsa_public_key)",
      ]),
    ]),
    "",
    "CI schemas",
    `  ${report.ciSchemas.prefix}<run>_<domain>, created at run time and owned by ${report.ciSchemas.creator}`,
    ...report.ciSchemas.restrictedCopies.map((d) =>
      `  CI can read ${prodSchemaName(d)} (restricted): ${report.ciSchemas.prefix}<run>_${d} is a restricted copy, owned by the provisioner, so no CI run can share it`),
    ...report.ciSchemas.refused.map((d) =>
      `  CI cannot read ${prodSchemaName(d)} (restricted): no CI schema for ${d}; to build it in CI, add the CI account to that domain's readers`),
    "",
    "Totals",
    ...alignColumns([
      ["developers", String(t.developers), ""],
      ["service accounts", String(t.serviceAccounts.all), `${t.serviceAccounts.prod} prod, ${t.serviceAccounts.ci} ci`],
      ["prod schemas", String(t.prodSchemas.all), `${t.prodSchemas.restricted} restricted`],
      ["developer schemas", String(t.developerSchemas), ""],
      ["roles", String(t.roles), ""],
      ["grants", String(t.grants), ""],
      ["memberships", String(t.memberships), ""],
    ]),
    "",
    `Resources \`pulumi up\` would manage (${report.resources.stackConfig})`,
    ...alignColumns([
      ["platform", "type", "count"],
      ...report.resources.byType.map((r) => [r.platform, r.type, String(r.count)]),
      ...Object.entries(report.resources.totals).map(([platform, total]) => [platform, "total", String(total)]),
    ]),
    ...(options.resources ? resourceLines(report) : []),
    "",
    ...renderDenyRules(report.denyRules),
  );
  return `${lines.join("\n")}\n`;
}
