import type { Violation } from "../boundary/rules";
import { alignColumns, count } from "../report/columns";
import { quotedName } from "./lookalike";
import { denyRuleResult, renderDenyRules, type DenyRuleResult } from "../report/deny-rules";
import type { LiveAudit, LiveWritePath, PathStatus } from "./live";
import type { GuardedKind, LiveReadPath } from "./live-read";
import type { ReadPower } from "./live-read-catalog";

// What `audit --live` prints: per prod schema, every role that can write and how, each marked declared, admin or DRIFT.
// The report object is also the `--json` output.

export interface LiveAuditReport extends LiveAudit {
  /** The roster file the boundary was built from. */
  roster: string;
  /** The deny rules on the declared boundary itself: a violation there is reported before any drift. */
  denyRules: DenyRuleResult;
}

export const liveAuditReport = (audit: LiveAudit, violations: readonly Violation[], roster = "team.yaml"): LiveAuditReport => ({
  ...audit,
  roster,
  denyRules: denyRuleResult(violations),
});

const objectsText = (w: Pick<LiveWritePath, "objects" | "objectCount">, noun: string): string => {
  const more = w.objectCount > w.objects.length ? ", …" : "";
  return w.objectCount === 1 ? `${noun} ${w.objects[0] ?? ""}` : `${count(w.objectCount, noun)} (${w.objects.join(", ")}${more})`;
};

/** The power in words: what the holder can do to the schema. */
export function powerText(w: LiveWritePath): string {
  switch (w.power) {
    case "superuser":
      return "superuser";
    case "schema owner":
      return "owns the schema (alter, drop, grant)";
    case "object owner":
      return `owns ${objectsText(w, "object")}`;
    case "CREATE on schema":
      return "CREATE on the schema";
    case "table privilege":
      return `${w.privilege} on ${objectsText(w, "table")}`;
    case "column privilege":
      return `${w.privilege} on ${objectsText(w, "column")}`;
    case "default privilege":
      return `${w.privilege} on ${w.objects[0] ?? "future objects"}`;
    case "pg_write_all_data":
      return "INSERT, UPDATE, DELETE on every table (pg_write_all_data)";
    case "database owner":
      return "owns the database (can DROP it, prod included, and create schemas; cannot alter or write this schema)";
    case "pg_execute_server_program":
    case "pg_write_server_files":
    case "pg_read_server_files":
      return `${w.power}: acts as the server's OS user (superuser-equivalent)`;
    case "pg_maintain":
      return "MAINTAIN on every table (pg_maintain)";
    case "event trigger function":
      return `owns the function of an event trigger (${w.objects.join(", ")}): its code runs as whoever runs DDL, superusers included`;
    case "writes through a view or rule":
      return `${w.privilege} on ${objectsText(w, "view or table")} outside prod, whose owner writes into this schema through it`;
    case "owns what prod depends on":
      return `owns what prod depends on: ${w.objects.join("; ")}${w.objectCount > w.objects.length ? "; …" : ""} (can change it, or DROP … CASCADE into prod)`;
    case "CREATE on database":
      return "CREATE on the database (can create a prod_ schema)";
    case "ADMIN on a writer role":
      return `ADMIN on ${w.objects[0] ?? "a writer role"}: can hand it to anyone`;
  }
}

/** "svc_prod →inherits→ prod_writer"; a hop says how the step is used: inherits, SET ROLE, ADMIN, executes f(). */
export function chainText(w: Pick<LiveWritePath, "chain" | "hops">): string {
  const [first, ...rest] = w.chain;
  return rest.reduce((text, role, i) => `${text} ─${w.hops[i] ?? "?"}→ ${role}`, first ?? "");
}

const REACH: Record<LiveWritePath["reach"], string> = {
  self: "holds it",
  inherit: "inherits it",
  set: "can SET ROLE to it",
  admin: "can grant itself the role (ADMIN)",
};

/** Strongest first, so a row reads "superuser; owns the schema; ..." rather than in alphabetical order. */
const POWER_ORDER: LiveWritePath["power"][] = [
  "superuser", "schema owner", "database owner", "pg_write_all_data", "CREATE on schema", "object owner",
  "table privilege", "column privilege", "default privilege",
];

const STATUS: Record<PathStatus, string> = { declared: "declared", admin: "admin", drift: "DRIFT" };
const WORST: PathStatus[] = ["drift", "admin", "declared"];

/** What rowsOf needs of a write or a read path. */
type Row<P> = Pick<LiveWritePath, "principal" | "login" | "chain" | "hops" | "reach" | "status" | "latent"> & { power: P };

/** One row per (principal, chain): its powers on the schema joined, strongest first, and the worst status among them. */
function rowsOf<P extends string, R extends Row<P>>(paths: readonly R[], order: readonly P[], text: (p: R) => string): string[][] {
  const groups = new Map<string, R[]>();
  for (const w of paths) {
    const id = `${w.chain.join("\u0000")}\u0001${w.hops.join("\u0000")}`;
    groups.set(id, [...(groups.get(id) ?? []), w]);
  }
  const rank = (group: R[]) => WORST.findIndex((s) => group.some((p) => p.status === s));
  return [...groups.values()].sort((a, b) => rank(a) - rank(b)).map((group) => {
    const first = group[0]!;
    const status = WORST.find((s) => group.some((p) => p.status === s))!;
    const login = first.principal === "PUBLIC" ? "every role" : first.login ? "login" : "role";
    const chain = first.chain.length > 1 ? `${chainText(first)} (${REACH[first.reach]})` : "—";
    const strongest = [...group].sort((a, b) => order.indexOf(a.power) - order.indexOf(b.power));
    const latent = group.every((p) => p.latent !== undefined) ? ` (${first.latent})` : "";
    return [STATUS[status], first.principal, login, chain, `${strongest.map(text).join("; ")}${latent}`];
  });
}

/** A schema name as printed: quoted and escaped unless it is plain lowercase ASCII, so a look-alike never passes for the real one. */
export const shownName = (schema: string): string => (/^[a-z0-9_]+$/.test(schema) ? schema : quotedName(schema));

const READ_ORDER: ReadPower[] = [
  "superuser", "schema owner", "pg_read_all_data", "object owner", "SELECT", "column SELECT", "copy owner", "copy SELECT", "default privilege",
];

/** The read power in words. */
export function readPowerText(r: Pick<LiveReadPath, "power" | "objects" | "objectCount">): string {
  const objects = (noun: string) => objectsText({ objects: r.objects, objectCount: r.objectCount }, noun);
  switch (r.power) {
    case "superuser":
      return "superuser";
    case "schema owner":
      return "owns the schema (can grant itself anything in it)";
    case "pg_read_all_data":
      return "SELECT on every table (pg_read_all_data)";
    case "object owner":
      return `owns ${objects("object")}`;
    case "SELECT":
      return `SELECT on ${objects("table")}`;
    case "column SELECT":
      return `SELECT on ${objects("column")}`;
    case "default privilege":
      return `SELECT on ${r.objects[0] ?? "future tables"}`;
    case "copy owner":
      return `owns ${objects("view")} over it elsewhere`;
    case "copy SELECT":
      return `SELECT on ${objects("view")} over it elsewhere`;
    case "USAGE on schema":
      return "USAGE on the schema";
  }
}

const KIND: Record<GuardedKind, string> = { prod: "restricted prod", developer: "developer copy", ci: "CI copy" };

function renderReads(report: LiveAuditReport): string[] {
  const { reads } = report;
  const lines: string[] = [];
  if (reads.schemas.length > 0) {
    lines.push("Who can read restricted data (D5): each restricted prod schema, every developer or CI copy of it, and views over them elsewhere.");
    const table: string[][] = [["schema", "status", "reader", "kind", "role chain", "can"]];
    for (const s of reads.schemas) {
      const rows = rowsOf(s.readers, READ_ORDER, readPowerText);
      const name = `${shownName(s.schema)} (${KIND[s.kind]})`;
      if (rows.length === 0) table.push([name, "", "nobody", "", "", ""]);
      rows.forEach((row, i) => table.push([i === 0 ? name : "", ...row]));
    }
    lines.push(...alignColumns(table), "");
  }
  if (reads.publicGrants.length === 0) lines.push("PUBLIC on prod schemas (D3): holds nothing.");
  else {
    lines.push("PUBLIC on prod schemas (D3): every role can use these.");
    const table: string[][] = [["schema", "status", "privilege", "on"]];
    for (const g of reads.publicGrants) table.push([shownName(g.schema), "DRIFT", g.privilege, `${objectsText(g, g.kind)}`]);
    lines.push(...alignColumns(table));
  }
  lines.push("", "The program's machinery:");
  lines.push(...alignColumns(reads.machinery.map((c) => [c.ok ? "ok" : "DRIFT", c.check, c.detail]), "  "), "");
  return lines;
}

/** The report's last line: what the live database shows, in one line a CI log can be read by. */
export function liveSummary(report: LiveAuditReport): string {
  const where = `Live database ${report.database}`;
  if (report.drift === 0)
    return `${where}: no drift. Only declared writers and admin paths can write to prod, only listed readers can read restricted data, PUBLIC holds nothing on prod, the machinery works.`;
  const writes = report.writeDrift;
  const reads = report.reads.schemas.reduce((n, s) => n + s.readers.filter((r) => r.status === "drift").length, 0);
  const failed = report.reads.machinery.filter((c) => !c.ok).length;
  const parts = [
    writes > 0 ? count(writes, "write finding") : "",
    reads > 0 ? count(reads, "read path") : "",
    report.reads.publicGrants.length > 0 ? count(report.reads.publicGrants.length, "PUBLIC privilege") : "",
    failed > 0 ? count(failed, "machinery check") + " failed" : "",
  ].filter((p) => p !== "");
  return `${where}: DRIFT, ${parts.join(", ")} (exit 1).`;
}

export function renderLiveAudit(report: LiveAuditReport): string {
  const lines = [
    `Who can write to prod schemas, read live from database ${report.database}${report.target ? ` at ${report.target}` : ""}`,
    `(PostgreSQL ${report.serverVersion}, ${report.membershipRules} membership rules), compared with the boundary ${report.roster} declares.`,
    `Admin paths: ${report.provisioner} (provisioner)${report.provisioner === report.bootstrapSuperuser ? "" : `, ${report.bootstrapSuperuser} (bootstrap superuser)`}.` +
      (report.declaredFunctions.length > 0 ? ` Declared SECURITY DEFINER functions, trusted when the provisioner owns them: ${report.declaredFunctions.join(", ")}.` : ""),
    "",
  ];
  const table: string[][] = [["schema", "status", "writer", "kind", "role chain", "can"]];
  for (const s of report.schemas) {
    const name = `${shownName(s.schema)}${s.declared ? (s.restricted ? " (restricted)" : "") : " (NOT IN ROSTER)"}`;
    const rows = rowsOf(s.writers, POWER_ORDER, powerText);
    if (rows.length === 0) table.push([name, "", "nobody", "", "", ""]);
    rows.forEach((row, i) => table.push([i === 0 ? name : "", ...row]));
  }
  lines.push(...alignColumns(table), "");
  lines.push(...renderReads(report));

  const drifted = report.schemas.flatMap((s) => s.writers.filter((w) => w.status === "drift").map((w) => ({ s, w })));
  if (report.missingSchemas.length > 0)
    lines.push(`DRIFT: declared but missing from the database: ${report.missingSchemas.join(", ")}`);
  if (report.undeclaredSchemas.length > 0)
    lines.push(`DRIFT: prod schemas the roster does not declare: ${report.undeclaredSchemas.map(shownName).join(", ")}`);
  if (report.lookalikeSchemas.length > 0)
    lines.push(`DRIFT: schemas named like prod schemas but not prod_: ${report.lookalikeSchemas.map((l) => `${quotedName(l.schema)} (reads as ${l.readsAs})`).join(", ")}`);
  if (drifted.length > 0) {
    const principals = new Set(drifted.map(({ w }) => w.principal));
    const schemas = new Set(drifted.map(({ s }) => s.schema));
    lines.push(`DRIFT: ${count(drifted.length, "write path")} the boundary does not declare, for ${count(principals.size, "role")} on ${count(schemas.size, "prod schema")}: ${[...principals].join(", ")}`);
  }
  const reads = report.reads;
  const readDrift = reads.schemas.flatMap((s) => s.readers.filter((r) => r.status === "drift"));
  if (readDrift.length > 0) {
    const principals = new Set(readDrift.map((r) => r.principal));
    const latent = readDrift.filter((r) => r.latent !== undefined).length;
    lines.push(`DRIFT: ${count(readDrift.length, "read path")} to restricted data by ${count(principals.size, "role")} not listed as readers${latent > 0 ? ` (${latent} latent)` : ""}: ${[...principals].join(", ")}`);
  }
  if (reads.publicGrants.length > 0)
    lines.push(`DRIFT: PUBLIC holds ${count(reads.publicGrants.length, "privilege")} on prod schemas: ${[...new Set(reads.publicGrants.map((g) => shownName(g.schema)))].join(", ")}`);
  for (const check of reads.machinery.filter((c) => !c.ok)) lines.push(`DRIFT: machinery: ${check.detail}`);
  // The roster's rules first, named as such; the last line is always what the live database shows.
  lines.push(...renderDenyRules(report.denyRules, `Roster ${report.roster} (the declared boundary, not the database): deny rules`));
  lines.push(liveSummary(report));
  return `${lines.join("\n")}\n`;
}
