import type { Violation } from "../boundary/rules";
import { alignColumns, count } from "../report/columns";
import { quotedName } from "./lookalike";
import { denyRuleResult, renderDenyRules, type DenyRuleResult } from "../report/deny-rules";
import type { LiveAudit, LiveWritePath, PathStatus } from "./live";

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

const objectsText = (w: LiveWritePath, noun: string): string => {
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

/** One row per (writer, chain): its powers on the schema joined, and the worst status among them. */
function rowsOf(writers: readonly LiveWritePath[]): string[][] {
  const groups = new Map<string, LiveWritePath[]>();
  for (const w of writers) {
    const id = `${w.chain.join("\u0000")}\u0001${w.hops.join("\u0000")}`;
    groups.set(id, [...(groups.get(id) ?? []), w]);
  }
  const rank = (paths: LiveWritePath[]) => WORST.findIndex((s) => paths.some((p) => p.status === s));
  return [...groups.values()].sort((a, b) => rank(a) - rank(b)).map((paths) => {
    const first = paths[0]!;
    const status = WORST.find((s) => paths.some((p) => p.status === s))!;
    const login = first.principal === "PUBLIC" ? "every role" : first.login ? "login" : "role";
    const chain = first.chain.length > 1 ? `${chainText(first)} (${REACH[first.reach]})` : "—";
    const strongest = [...paths].sort((a, b) => POWER_ORDER.indexOf(a.power) - POWER_ORDER.indexOf(b.power));
    const latent = paths.every((p) => p.latent !== undefined) ? ` (${first.latent})` : "";
    return [STATUS[status], first.principal, login, chain, `${strongest.map(powerText).join("; ")}${latent}`];
  });
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
    const name = `${s.schema}${s.declared ? (s.restricted ? " (restricted)" : "") : " (NOT IN ROSTER)"}`;
    const rows = rowsOf(s.writers);
    if (rows.length === 0) table.push([name, "", "nobody", "", "", ""]);
    rows.forEach((row, i) => table.push([i === 0 ? name : "", ...row]));
  }
  lines.push(...alignColumns(table), "");

  const drifted = report.schemas.flatMap((s) => s.writers.filter((w) => w.status === "drift").map((w) => ({ s, w })));
  if (report.missingSchemas.length > 0)
    lines.push(`DRIFT: declared but missing from the database: ${report.missingSchemas.join(", ")}`);
  if (report.undeclaredSchemas.length > 0)
    lines.push(`DRIFT: prod schemas the roster does not declare: ${report.undeclaredSchemas.join(", ")}`);
  if (report.lookalikeSchemas.length > 0)
    lines.push(`DRIFT: schemas named like prod schemas but not prod_: ${report.lookalikeSchemas.map((l) => `${quotedName(l.schema)} (reads as ${l.readsAs})`).join(", ")}`);
  if (drifted.length > 0) {
    const principals = new Set(drifted.map(({ w }) => w.principal));
    const schemas = new Set(drifted.map(({ s }) => s.schema));
    lines.push(`DRIFT: ${count(drifted.length, "write path")} the boundary does not declare, for ${count(principals.size, "role")} on ${count(schemas.size, "prod schema")}: ${[...principals].join(", ")}`);
  }
  if (report.drift === 0) lines.push("No drift: only declared writers and admin paths can write to prod schemas.");
  lines.push(...renderDenyRules(report.denyRules));
  return `${lines.join("\n")}\n`;
}
