import { count } from "../report/columns";
import { renderDenyRules } from "../report/deny-rules";
import { developerRoleName, PROD_READER, PROD_WRITER, snowflakeName } from "../roster/naming";
import type { Platform } from "../stack";
import type { AccessChange, DiffReport, DiffSummary, PrincipalChange, SchemaChange, SettingChange } from "./model";

// The permission diff as a pull-request comment: riskiest first, in a reviewer's words, one line per change.

const PLATFORM_NAME: Record<Platform, string> = { postgres: "PostgreSQL", snowflake: "Snowflake" };

const list = (items: readonly string[]): string =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;

/** How the access is reached: "through dev_carol → prod_finance_reader", "through PUBLIC", "directly". */
function route(change: Pick<AccessChange, "via" | "source">): string {
  const chain = change.source === "public" ? ["PUBLIC", ...change.via] : change.via;
  const through = chain.length > 0 ? `through ${chain.join(" → ")}` : "directly";
  return change.source === "owner" ? `${through} (as owner)` : through;
}

const schemaName = (c: Pick<AccessChange, "schema" | "restricted">) => (c.restricted ? `${c.schema} (restricted)` : c.schema);
const who = (c: Pick<AccessChange, "principal" | "kind">) => (c.kind === "developer" ? `**${c.principal}**` : `**${c.principal}** (${c.kind})`);

/** Changes of one principal, one direction and one route, with the schemas they apply to. */
interface Line {
  changes: AccessChange[];
  schemas: string;
}

/** `apart`: restricted schemas on lines of their own, so they can be read first. */
function byPrincipal(changes: readonly AccessChange[], apart: boolean): Line[] {
  const lines = new Map<string, Line>();
  for (const c of changes) {
    const key = [apart && c.restricted, c.change, c.principal, c.source, ...c.via].join("\u0000");
    const line = lines.get(key);
    if (line) line.changes.push(c);
    else lines.set(key, { changes: [c], schemas: "" });
  }
  for (const line of lines.values()) line.schemas = line.changes.map(schemaName).join(", ");
  return [...lines.values()];
}

function writeLines(report: DiffReport): string[] {
  if (report.prodWrite.length === 0)
    return [
      "### Write access to prod",
      "",
      `✅ No change: ${report.prodWriters.length > 0 ? `only ${list(report.prodWriters)} can write to prod schemas` : "nobody can write to prod schemas"}.`,
    ];
  return [
    "### 🚨 WRITE ACCESS TO PROD CHANGES",
    "",
    "> **Only `purpose: prod` service accounts may write to prod schemas. Have whoever owns production approve each line.**",
    "",
    ...byPrincipal(report.prodWrite, false).map(({ changes, schemas }) => {
      const c = changes[0]!;
      const keeps = c.change === "loses" && c.readsAfter ? " (keeps read)" : "";
      return `- 🚨 ${who(c)} **${c.change} write** on ${schemas} ${route(c)}${keeps}`;
    }),
  ];
}

function readLines(report: DiffReport): string[] {
  if (report.prodRead.length === 0) return ["### Read access on prod schemas", "", "No change."];
  // Principals reaching the same schemas through the same role share a line: "alice, bob gain read on prod_hr".
  const merged = new Map<string, { principals: AccessChange[]; line: Line }>();
  for (const line of byPrincipal(report.prodRead, true)) {
    const c = line.changes[0]!;
    const key = [c.restricted, c.change, line.schemas, c.source, c.via.at(-1) ?? ""].join("\u0000");
    const entry = merged.get(key);
    if (entry) entry.principals.push(c);
    else merged.set(key, { principals: [c], line });
  }
  return [
    "### Read access on prod schemas",
    "",
    ...[...merged.values()].map(({ principals, line }) => {
      const c = line.changes[0]!;
      const lock = c.restricted ? "🔒 " : "";
      // CI runs code from any pull request: a restricted read by CI is said as such, so a reviewer cannot miss it.
      if (principals.length === 1 && c.restricted && c.kind === "ci service account")
        return `- ${lock}${c.change === "gains" ? "CI can read" : "CI can no longer read"} ${line.schemas}: ${who(c)} ${c.change} read ${route(c)}${c.change === "gains" ? "; every CI run, code from any pull request, reads it" : ""}`;
      if (principals.length === 1) return `- ${lock}${who(c)} ${c.change} read on ${line.schemas} ${route(c)}`;
      const holder = c.via.at(-1);
      const through = c.source === "public" ? "through PUBLIC" : holder === undefined ? route(c) : `through ${holder}`;
      return `- ${lock}${list(principals.map(who))} ${c.change === "gains" ? "gain" : "lose"} read on ${line.schemas} ${through}`;
    }),
  ];
}

/** What happens to a developer schema's data when it leaves the roster, on each configured platform. */
function retained(report: DiffReport, schemas: readonly SchemaChange[]): string {
  const first = schemas[0]!;
  const role = developerRoleName(first.developer ?? "");
  const provisioner = `the provisioner role${report.snowflakeAdminRole ? ` (${report.snowflakeAdminRole})` : ""}`;
  // A restricted copy is the provisioner's already; its developer's role keeps its privileges on it until it is dropped.
  const copies = schemas.filter((s) => s.owner === null).length;
  const all = copies === schemas.length;
  const how: Record<Platform, string> = {
    postgres: first.developerRemoved
      ? `on PostgreSQL ownership moves to the provisioner${report.postgresProvisioner ? ` (${report.postgresProvisioner})` : ""} when ${role} is dropped (REASSIGN OWNED)`
      : all
        ? `on PostgreSQL ${schemas.length === 1 ? "it stays" : "they stay"} the provisioner's, ${role} keeping USAGE and CREATE, no longer managed by Pulumi`
        : `on PostgreSQL ${schemas.length === 1 ? "it stays" : "they stay"} owned by ${role}${copies > 0 ? " (a restricted copy: by the provisioner, with USAGE and CREATE for the role)" : ""}, no longer managed by Pulumi`,
    snowflake: all
      ? `on Snowflake ${schemas.length === 1 ? "it stays" : "they stay"} with ${provisioner}, ${snowflakeName(role)} keeping its privileges`
      : `on Snowflake ${schemas.length === 1 ? "it is" : "each is"} handed back to ${provisioner}${copies > 0 ? " (a restricted copy never left it)" : ""}`,
  };
  return `retained, never dropped: ${report.platforms.map((p) => how[p]).join("; ")}`;
}

/** What removing a prod schema from the roster does: nothing until someone unprotects it on purpose. */
function protectedSchema(report: DiffReport): string {
  return `It is protected, so \`pulumi up\` stops with an error at this schema until someone unprotects it on purpose (\`pulumi state unprotect\`); its data stays. Once unprotected it is also retain-on-delete${report.platforms.length > 1 ? " on every platform" : ""}, so Pulumi then forgets it without dropping it.`;
}

const prodSchemaLabel = (s: SchemaChange) =>
  s.restricted ? `**${s.schema}** (restricted; readers: ${s.readers && s.readers.length > 0 ? s.readers.join(", ") : "none"})` : `**${s.schema}**`;

function principalLine(p: PrincipalChange, report: DiffReport, schemasOf: Map<string, SchemaChange[]>): string {
  const label = p.kind === "developer" ? `Developer **${p.principal}**` : `Service account **${p.principal}** (${p.kind})`;
  const email = p.email ? ` (${p.email})` : "";
  const own = schemasOf.get(p.principal) ?? [];
  if (p.change === "added") {
    if (p.kind !== "developer") return `- ➕ ${label} added: member of ${list(p.roles ?? [])}.`;
    const created = own.filter((s) => s.change === "created").map((s) => s.schema);
    return `- ➕ ${label}${email} joins: role ${p.role ?? developerRoleName(p.principal)}${created.length > 0 ? `, owner of new ${created.length === 1 ? "schema" : "schemas"} ${created.join(", ")}` : ", no schemas"}.`;
  }
  if (p.change === "removed") {
    if (p.kind !== "developer") return `- ➖ ${label} removed: no longer a member of ${list(p.roles ?? [])}; its logins are dropped.`;
    const kept = own.filter((s) => s.change === "removed");
    const data = kept.length > 0 ? ` ${kept.length === 1 ? "Schema" : "Schemas"} ${kept.map((s) => s.schema).join(", ")}: ${retained(report, kept)}.` : "";
    return `- ➖ ${label}${email} leaves: role ${p.role ?? developerRoleName(p.principal)} and the logins are dropped.${data}`;
  }
  const fields = (p.fields ?? []).map((f) => `${f.field} ${f.before ?? "none"} → ${f.after ?? "none"}`);
  const recreated = (p.fields ?? []).some((f) => f.field === "postgres login" || f.field === "snowflake user")
    ? " (the old login is dropped and the new one created)" : "";
  return `- ✏️ ${label}: ${fields.join("; ")}${recreated}.`;
}

function schemaLine(s: SchemaChange, report: DiffReport): string {
  if (s.kind === "prod") {
    if (s.change === "created") return `- ➕ Prod schema ${prodSchemaLabel(s)} created: written only through ${PROD_WRITER}, protected against deletion.`;
    if (s.change === "removed") return `- ⛔ Prod schema ${prodSchemaLabel(s)} leaves the roster. ${protectedSchema(report)}`;
    if (s.change === "restricted") return `- 🔒 Prod schema ${prodSchemaLabel(s)} becomes restricted: only its listed readers and the writer can read it.`;
    return `- 🔓 Prod schema **${s.schema}** is no longer restricted: every developer and CI can read it through ${PROD_READER}.`;
  }
  if (s.change === "created") return `- ➕ Schema ${s.schema} created for ${s.developer ?? "?"}, owned by ${s.owner ?? "the provisioner"}.`;
  return `- 📦 Schema ${s.schema} leaves the roster: ${retained(report, [s])}.`;
}

function settingLine(s: SettingChange): string {
  if (s.setting === "platforms") {
    const names = (platforms: readonly Platform[]) => list(platforms.map((p) => PLATFORM_NAME[p]));
    const parts = [
      ...(s.added.length > 0 ? [`${names(s.added)} added: \`pulumi up\` manages every role, schema and grant there`] : []),
      ...(s.removed.length > 0 ? [`${names(s.removed)} removed: \`pulumi up\` deletes the roles and grants it manages there and stops at the protected prod schemas; developer schemas are retained`] : []),
    ];
    return `- ⚙️ Stack: ${parts.join("; ")}.`;
  }
  if (s.setting === "database")
    return s.before === null
      ? `- ⚙️ Stack: database ${s.after}.`
      : `- ⚙️ Stack: database ${s.before} → ${s.after}: every schema would move, and the protected prod schemas stop \`pulumi up\` until unprotected on purpose.`;
  return `- ⚙️ Stack: Snowflake admin role ${s.before ?? "none"} → ${s.after ?? "none"}: the role that owns prod schemas and holds every custom role (an admin path).`;
}

function rosterLines(report: DiffReport): string[] {
  const developers = new Set(report.principals.filter((p) => p.kind === "developer" && p.change !== "changed").map((p) => p.principal));
  const schemasOf = new Map<string, SchemaChange[]>();
  const others: SchemaChange[] = [];
  for (const s of report.schemas) {
    // A joining or leaving developer's schemas are told on the developer's own line.
    if (s.developer !== undefined && developers.has(s.developer)) schemasOf.set(s.developer, [...(schemasOf.get(s.developer) ?? []), s]);
    else others.push(s);
  }
  const lines = [
    ...report.principals.map((p) => principalLine(p, report, schemasOf)),
    ...others.map((s) => schemaLine(s, report)),
    ...report.settings.map(settingLine),
  ];
  return ["### People, service accounts and schemas", "", ...(lines.length > 0 ? lines : ["No change."])];
}

/** The change at the resource level, under the permission change: what `pulumi up` would create, update and delete. */
export function resourceLines(report: DiffReport): string[] {
  const r = report.resources;
  if (r === undefined) return [];
  const heading = "### Resources `pulumi up` would change";
  if (r.creates + r.updates + r.deletes === 0) return [heading, "", "No resource changes."];
  const kept = [
    r.retained > 0 ? `${r.retained} retained: Pulumi forgets ${r.retained === 1 ? "it" : "them"}, the data stays` : "",
    r.protected > 0 ? `${r.protected} protected: \`pulumi up\` stops at ${r.protected === 1 ? "it" : "them"} until unprotected on purpose` : "",
  ].filter(Boolean);
  const counts = (c: { creates: number; updates: number; deletes: number }) =>
    [c.creates > 0 ? `creates ${c.creates}` : "", c.updates > 0 ? `updates ${c.updates}` : "", c.deletes > 0 ? `deletes ${c.deletes}` : ""].filter(Boolean).join(", ");
  const total = counts(r).replace(/^(\w+) (\d+)/, (_, verb: string, n: string) => `${verb[0]!.toUpperCase()}${verb.slice(1)} ${count(Number(n), "resource")}`);
  return [
    heading,
    "",
    `${total}${kept.length > 0 ? ` (of the deletes, ${kept.join("; ")})` : ""}; ${count(r.unchanged, "resource")} unchanged.`,
    "",
    ...r.byType.map((t) => `- ${PLATFORM_NAME[t.platform]} \`${t.type}\`: ${counts(t)}`),
  ];
}

/** The one-line summary: every non-zero count, prod write first. */
export function summaryLine(summary: DiffSummary): string {
  const parts = [
    summary.prodWriteChanges > 0 ? `🚨 ${count(summary.prodWriteChanges, "prod write change")}` : "no prod write change",
  ];
  const add = (n: number, text: string) => {
    if (n > 0) parts.push(text);
  };
  const restricted = summary.restrictedReadChanges > 0 ? ` (${count(summary.restrictedReadChanges, "on a restricted schema", "on restricted schemas")})` : "";
  const reads = [
    summary.readsGained > 0 ? `${count(summary.readsGained, "read")} gained` : "",
    summary.readsLost > 0 ? `${count(summary.readsLost, "read")} lost` : "",
  ].filter(Boolean);
  if (reads.length > 0) parts.push(`${reads.join(", ")}${restricted}`);
  add(summary.developersAdded, `${count(summary.developersAdded, "developer")} added`);
  add(summary.developersRemoved, `${count(summary.developersRemoved, "developer")} removed`);
  add(summary.serviceAccountsAdded, `${count(summary.serviceAccountsAdded, "service account")} added`);
  add(summary.serviceAccountsRemoved, `${count(summary.serviceAccountsRemoved, "service account")} removed`);
  add(summary.principalsChanged, `${count(summary.principalsChanged, "login, key or purpose change")}`);
  add(summary.schemasCreated, `${count(summary.schemasCreated, "schema")} created`);
  add(summary.schemasRetained, `${count(summary.schemasRetained, "developer schema")} retained`);
  add(summary.prodSchemasProtected, `${count(summary.prodSchemasProtected, "protected prod schema")} blocking \`pulumi up\``);
  add(summary.schemasRestrictionChanged, `${count(summary.schemasRestrictionChanged, "restriction change")}`);
  add(summary.settingsChanged, `${count(summary.settingsChanged, "stack setting change")}`);
  return `**Summary:** ${parts.join(" · ")}.`;
}

export function renderDiffMarkdown(report: DiffReport): string {
  const deny = renderDenyRules(report.denyRules);
  const denyLines = report.denyRules.holds ? [`${deny[0]} on the new roster.`] : ["🚨 **The new roster breaks the deny rules:**", "", "```", ...deny, "```"];
  const header = `## Permission changes against \`${report.base}\``;
  const resources = resourceLines(report);
  if (!report.changed) {
    // A setting that changes resources but no access (a statement timeout) still shows its resource change.
    const moved = report.resources !== undefined && report.resources.creates + report.resources.updates + report.resources.deletes > 0;
    return `${[header, "", `No permission changes: ${report.roster} and ${report.stackConfig} grant the same access as on \`${report.base}\`.`, "", ...(moved ? [...resources, ""] : []), ...denyLines].join("\n")}\n`;
  }
  return `${[
    header,
    "",
    ...(report.firstRoster ? [`> \`${report.baseRoster}\` does not exist: this is the first roster, so everything below is new.`, ""] : []),
    ...writeLines(report),
    "",
    ...readLines(report),
    "",
    ...rosterLines(report),
    "",
    ...(resources.length > 0 ? [...resources, ""] : []),
    summaryLine(report.summary),
    "",
    ...denyLines,
    "",
    `<sub>Effective access (every role chain) from ${report.roster} and ${report.stackConfig} at \`${report.base}\`, compared with this change. The resources behind it: \`pulumi preview\`.</sub>`,
  ].join("\n")}\n`;
}
