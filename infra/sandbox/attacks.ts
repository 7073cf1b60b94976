// Every principal tries every way to write (and to read) on every schema of a real server; the boundary says what must happen.
//
// Each attempt is one transaction on one superuser connection: SET LOCAL SESSION AUTHORIZATION to the login (the server
// then checks privileges exactly as for that login), the login's own role settings as a real login would get them
// (so the prod account acts as its assumed role), the attempt, then ROLLBACK. Only SQLSTATE 42501 counts as "denied":
// any other error is reported as an error, so a broken attempt can never pass as a refusal.
//
// COPY ... FROM STDIN needs no copy-stream library: the server checks INSERT on the table before it asks for data, and
// node-postgres answers that request with CopyFail, which the server reports as 57014 "COPY from stdin failed". So 42501
// means refused, and 57014 means the server accepted the COPY and was waiting for rows.
//
// CI makes schemas only through ci.create_schema(run, domain), a SECURITY DEFINER function that runs as the provisioner.
// Besides the plain call, every principal tries to abuse it: crafted run and domain values (its own refusals, SQLSTATE
// 3F000, count as "denied" for those attempts only), and look-alike hijacks (hijacks.ts), each in a real login session.

import type pg from "pg";
import { accessView, type AccessPath } from "../boundary/access";
import { PUBLIC, type Boundary } from "../boundary/model";
import { CREATED_MARKER } from "../ci/schema";
import { ciSchemaName, PROD_WRITER } from "../roster/naming";
import { quoteIdentifier as q, quoteLiteral as literal } from "./apply";
import { CI_CREATE_SCHEMA, ciSchemaOf, HIJACK_ACTIONS, hijackEffect, hijackSql, type HijackAction } from "./hijacks";

export { CI_CREATE_SCHEMA };

export type Outcome = "allowed" | "denied" | "error";

export const SCHEMA_ACTIONS = [
  "select", "create_table", "create_view", "insert", "update", "delete", "truncate", "drop_table", "alter_table",
  "grant_table", "create_trigger", "copy_from_stdin", "rename_schema", "drop_schema",
] as const;
export const DATABASE_ACTIONS = [
  "create_in_public", "create_prod_schema", "create_ci_schema_directly", "create_ci_schema", "ci_schema_injected_run", "ci_schema_traversal_domain",
  "ci_schema_unknown_domain", "ci_schema_null_run", "ci_schema_long_name", ...HIJACK_ACTIONS,
  "set_role_writer", "grant_writer_to_self",
] as const;
/** The attempts on ci.create_schema that must never make anything but a ci_<run>_<domain> schema for a known domain. */
export const CI_FUNCTION_ABUSES = [
  "ci_schema_injected_run", "ci_schema_traversal_domain", "ci_schema_unknown_domain", "ci_schema_null_run", "ci_schema_long_name",
  ...HIJACK_ACTIONS,
] as const satisfies readonly DatabaseAction[];
export type SchemaAction = (typeof SCHEMA_ACTIONS)[number];
export type DatabaseAction = (typeof DATABASE_ACTIONS)[number];
export type Action = SchemaAction | DatabaseAction;

/** Column headings of the printed matrix. */
export const ACTION_LABELS: Record<Action, string> = {
  select: "SEL", create_table: "CTAB", create_view: "CVIEW", insert: "INS", update: "UPD", delete: "DEL", truncate: "TRUNC",
  drop_table: "DTAB", alter_table: "ATAB", grant_table: "GRANT", create_trigger: "TRIG", copy_from_stdin: "COPY",
  rename_schema: "RNSCH", drop_schema: "DSCH", create_in_public: "CPUB", create_prod_schema: "CPROD", create_ci_schema_directly: "CCIDIR", create_ci_schema: "CCI",
  ci_schema_injected_run: "FINJ", ci_schema_traversal_domain: "FTRAV", ci_schema_unknown_domain: "FUNK", ci_schema_null_run: "FNULL",
  ci_schema_long_name: "FLONG", ci_schema_search_path_hijack: "FHIJK", ci_schema_type_hijack: "FTYPE", ci_schema_temp_hijack: "FTEMP", set_role_writer: "SETW", grant_writer_to_self: "GRW",
};

export interface Attempt {
  /** The roster name, or PUBLIC. */
  principal: string;
  login: string;
  /** A schema, or DATABASE for the database-wide attempts. */
  target: string;
  action: Action;
  sql: string;
  expected: "allowed" | "denied";
  actual: Outcome;
  ok: boolean;
  /** The server's message when it refused or failed. */
  detail?: string;
}

export const DATABASE = "(database)";

export interface AttackMatrix {
  database: string;
  principals: { principal: string; login: string }[];
  /** Schemas attacked, in order, then DATABASE. */
  targets: string[];
  attempts: Attempt[];
  unexpected: Attempt[];
  durationMs: number;
}

export interface AttackInput {
  /** A superuser connection to the warehouse database. */
  client: pg.Client;
  boundary: Boundary;
  /** schema → a table in it to attack; every attacked schema needs one. */
  tables: ReadonlyMap<string, string>;
  /** The login role that holds nothing and so stands for PUBLIC. */
  publicProbe: string;
  /** A CI schema that exists (created at run time by the CI login): the boundary says its creator role owns it. */
  ciSchema?: string;
  /** Schemas that exist but that the boundary no longer declares (an offboarded developer's): nobody may touch them. */
  retainedSchemas?: readonly string[];
  /** A new session logged in for real as `login` (the hijacks need one in which ci.create_schema never ran). */
  loginAs(login: string): Promise<pg.Client>;
}

interface Holding {
  read: boolean;
  write: boolean;
  owner: boolean;
}

interface Context {
  schema: string;
  table: string;
  tableOid: number;
  login: string;
  holding: Holding;
  reachesWriter: boolean;
  createsSchemas: boolean;
  /** The CI role, which alone may own ci_ schemas. */
  creator: string;
  /** A domain with a prod schema: what a legitimate ci.create_schema call names. */
  domain: string;
  /** A schema this principal may create objects in, where it plants its look-alikes; none for PUBLIC. */
  plantIn: string | undefined;
}

/** What a statement that succeeded actually did: `took` false means it was accepted without the effect tried for. */
interface Effect {
  took: boolean;
  detail?: string;
}

interface ActionSpec {
  sql(c: Context): string;
  /** The boundary's answer: may this principal do this here? */
  expect(c: Context): boolean;
  /** SQLSTATEs besides 42501 that mean "refused" for this attempt: ci.create_schema's own validation errors. */
  refusals?: readonly string[];
  /** For statements that may succeed without (or with another) effect: a GRANT without grant option only warns. */
  effect?(client: pg.Client, c: Context, baseline: Baseline, notices: readonly string[]): Promise<Effect>;
  /** Run in a new session, logged in for real as the principal, instead of on the shared connection. */
  freshSession?: true;
  /** For an attempt that failed: whether it did harm before it failed (code planted by the caller ran), from its notices. */
  effectOfFailure?(c: Context, notices: readonly string[]): Promise<Effect | undefined>;
}

interface Baseline {
  tableAcl: Map<number, string | null>;
  writerMembers: number;
  schemas: number;
}

/** ci.create_schema's refusal of a name or domain (ERRCODE invalid_schema_name). */
const FUNCTION_REFUSED = "3F000";


const t = (c: Context) => `${q(c.schema)}.${q(c.table)}`;
const write = (c: Context) => c.holding.write;

function hijackSpec(action: HijackAction): ActionSpec {
  return {
    sql: (c) => hijackSql(action, c),
    expect: () => false,
    freshSession: true,
    effect: async (client, c, _baseline, notices) => (await hijackEffect(action, c, notices, client))!,
    effectOfFailure: (c, notices) => hijackEffect(action, c, notices),
  };
}

const SPECS: Record<Action, ActionSpec> = {
  select: { sql: (c) => `SELECT count(*) FROM ${t(c)}`, expect: (c) => c.holding.read || c.holding.write },
  create_table: { sql: (c) => `CREATE TABLE ${q(c.schema)}.sandbox_attack (id integer)`, expect: write },
  create_view: { sql: (c) => `CREATE VIEW ${q(c.schema)}.sandbox_attack_view AS SELECT 1 AS one`, expect: write },
  insert: { sql: (c) => `INSERT INTO ${t(c)} DEFAULT VALUES`, expect: write },
  update: { sql: (c) => `UPDATE ${t(c)} SET id = 0`, expect: write },
  delete: { sql: (c) => `DELETE FROM ${t(c)}`, expect: write },
  truncate: { sql: (c) => `TRUNCATE ${t(c)}`, expect: write },
  drop_table: { sql: (c) => `DROP TABLE ${t(c)}`, expect: write },
  alter_table: { sql: (c) => `ALTER TABLE ${t(c)} ADD COLUMN sandbox_attack integer`, expect: write },
  grant_table: {
    sql: (c) => `GRANT INSERT ON TABLE ${t(c)} TO PUBLIC`,
    expect: write,
    effect: async (client, c, baseline) => ({
      took: (await client.query<{ acl: string | null }>(`SELECT relacl::text AS acl FROM pg_class WHERE oid = ${c.tableOid}`)).rows[0]?.acl !== baseline.tableAcl.get(c.tableOid),
    }),
  },
  create_trigger: {
    sql: (c) => `CREATE TRIGGER sandbox_attack BEFORE UPDATE ON ${t(c)} FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger()`,
    expect: write,
  },
  copy_from_stdin: { sql: (c) => `COPY ${t(c)} (id) FROM STDIN`, expect: write },
  // Renaming a prod schema, or any schema into prod_, writes prod (D1): only the provisioner may, and it is no principal.
  rename_schema: { sql: (c) => `ALTER SCHEMA ${q(c.schema)} RENAME TO prod_sandbox_renamed`, expect: () => false },
  drop_schema: { sql: (c) => `DROP SCHEMA ${q(c.schema)} CASCADE`, expect: (c) => c.holding.owner },
  // `public` is on every login's path: a look-alike there (a better-matching lower(varchar)) would run as whoever calls lower().
  create_in_public: { sql: () => "CREATE FUNCTION public.lower(character varying) RETURNS text LANGUAGE sql AS 'SELECT pg_catalog.lower($1::text)'", expect: () => false },
  // Nobody creates schemas directly: prod_ ones are the provisioner's, ci_ ones come only from ci.create_schema (D1).
  create_prod_schema: { sql: () => "CREATE SCHEMA prod_sandbox_attack", expect: () => false },
  create_ci_schema_directly: { sql: () => "CREATE SCHEMA ci_sandbox_attack_directly", expect: () => false },
  // The boundary lets its CI creator role make ci_<run>_<domain> schemas, owned by that role and stamped with their creation time.
  create_ci_schema: {
    sql: (c) => `SELECT ${CI_CREATE_SCHEMA}('sandboxattack', ${literal(c.domain)})`,
    expect: (c) => c.createsSchemas,
    effect: async (client, c) => {
      const name = ciSchemaName("sandboxattack", c.domain);
      const row = await ciSchemaOf(client, name);
      if (row === undefined) return { took: false, detail: `returned, but ${name} does not exist` };
      if (row.owner !== c.creator || !row.comment?.startsWith(CREATED_MARKER))
        return { took: false, detail: `${name} is owned by ${row.owner} with comment ${JSON.stringify(row.comment)}, not ${c.creator} with a creation marker` };
      return { took: true };
    },
  },
  // A quote cannot reach the SQL: run is a value, checked against the naming rule before it is formatted with %I.
  ci_schema_injected_run: {
    sql: (c) => `SELECT ${CI_CREATE_SCHEMA}(${literal(`x', ${literal(c.domain)}); CREATE SCHEMA prod_sandbox_attack; --`)}, ${literal(c.domain)})`,
    expect: () => false,
    refusals: [FUNCTION_REFUSED],
    effect: madeNoSchema,
  },
  ci_schema_traversal_domain: { sql: () => `SELECT ${CI_CREATE_SCHEMA}('x', '../prod_sandbox_attack')`, expect: () => false, refusals: [FUNCTION_REFUSED], effect: madeNoSchema },
  ci_schema_unknown_domain: { sql: () => `SELECT ${CI_CREATE_SCHEMA}('x', 'sandbox_no_such_domain')`, expect: () => false, refusals: [FUNCTION_REFUSED], effect: madeNoSchema },
  // NULL slips past the body's regex checks (NULL !~ ... is NULL, not true); only format('%I', NULL) then refuses it (22004).
  ci_schema_null_run: { sql: (c) => `SELECT ${CI_CREATE_SCHEMA}(NULL, ${literal(c.domain)})`, expect: () => false, refusals: [FUNCTION_REFUSED, "22004"], effect: madeNoSchema },
  // Over 63 bytes PostgreSQL would truncate the name, so two runs could share a schema.
  ci_schema_long_name: { sql: (c) => `SELECT ${CI_CREATE_SCHEMA}(${literal("9".repeat(64))}, ${literal(c.domain)})`, expect: () => false, refusals: [FUNCTION_REFUSED], effect: madeNoSchema },
  // "Allowed" would mean: code the caller planted ran inside ci.create_schema, that is, with the provisioner's rights.
  ci_schema_search_path_hijack: hijackSpec("ci_schema_search_path_hijack"),
  ci_schema_type_hijack: hijackSpec("ci_schema_type_hijack"),
  ci_schema_temp_hijack: hijackSpec("ci_schema_temp_hijack"),
  set_role_writer: { sql: () => `SET ROLE ${q(PROD_WRITER)}`, expect: (c) => c.reachesWriter },
  grant_writer_to_self: {
    sql: (c) => `GRANT ${q(PROD_WRITER)} TO ${q(c.login)}`,
    // The boundary gives nobody ADMIN on the writer role.
    expect: () => false,
    effect: async (client, _c, baseline) => ({ took: (await writerMembers(client)) !== baseline.writerMembers }),
  },
};

async function schemaCount(client: pg.Client): Promise<number> {
  // Temporary schemas come and go with backends, not with attempts.
  const sql = "SELECT count(*) AS n FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_'";
  return Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
}

/** A crafted call that returns without raising (were the function made STRICT, say) fails only if it made a schema. */
async function madeNoSchema(client: pg.Client, _c: Context, baseline: Baseline): Promise<Effect> {
  const made = (await schemaCount(client)) !== baseline.schemas;
  return made ? { took: true, detail: "returned, and a schema was created" } : { took: false, detail: "returned without creating a schema" };
}

async function writerMembers(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_auth_members WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [PROD_WRITER]);
  return Number(result.rows[0]?.n ?? 0);
}

/** What the boundary gives one holder on each schema: read, write, and whether by ownership. */
function holdingsOf(paths: readonly AccessPath[]): Map<string, Holding> {
  const held = new Map<string, Holding>();
  for (const path of paths) {
    const h = held.get(path.schema) ?? { read: false, write: false, owner: false };
    if (path.access === "read") h.read = true;
    if (path.access === "write") h.write = true;
    if (path.source === "owner") h.owner = true;
    held.set(path.schema, h);
  }
  return held;
}

/** Runs every attempt and compares each with the boundary. Leaves the database as it found it (every attempt is rolled back). */
export async function runAttacks(input: AttackInput): Promise<AttackMatrix> {
  const started = performance.now();
  const { client, boundary } = input;
  const database = (await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db;

  const schemas = [
    ...boundary.schemas.map((s) => s.name),
    ...(input.ciSchema ? [input.ciSchema] : []),
    ...(input.retainedSchemas ?? []),
  ];
  const missing = schemas.filter((s) => !input.tables.has(s));
  if (missing.length > 0) throw new Error(`no table to attack in ${missing.join(", ")}`);
  const oids = await client.query<{ schema: string; oid: number; acl: string | null }>(
    `SELECT n.nspname AS schema, c.oid::int AS oid, c.relacl::text AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [schemas, schemas.map((s) => input.tables.get(s)!)],
  );
  const oidOf = new Map(oids.rows.map((r) => [r.schema, r.oid]));
  const absent = schemas.filter((s) => !oidOf.has(s));
  if (absent.length > 0) throw new Error(`the table to attack does not exist in ${absent.join(", ")}`);
  const baseline: Baseline = { tableAcl: new Map(oids.rows.map((r) => [r.oid, r.acl])), writerMembers: await writerMembers(client), schemas: await schemaCount(client) };

  // What a real login would get from ALTER ROLE ... SET: the prod account's `role`, developers' statement_timeout.
  const settings = await client.query<{ role: string; config: string[] }>(
    `SELECT r.rolname AS role, s.setconfig AS config FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
      WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) ORDER BY s.setdatabase`,
  );
  const settingsOf = (login: string): string[] =>
    settings.rows.filter((r) => r.role === login).flatMap((r) => r.config).map((entry) => {
      const at = entry.indexOf("=");
      return `SELECT pg_catalog.set_config(${client.escapeLiteral(entry.slice(0, at))}, ${client.escapeLiteral(entry.slice(at + 1))}, true)`;
    });

  const creator = boundary.ciSchemas.creator;
  // A domain ci.create_schema makes schemas for: unrestricted, or restricted with CI among its readers.
  const domain = boundary.schemas.find((s) => s.kind === "prod" && (!s.restricted || boundary.ciSchemas.restrictedCopies.includes(s.domain)))?.domain;
  if (domain === undefined) throw new Error("the boundary has no prod schema, so no domain a CI schema could be made for");
  const view = accessView(boundary);
  const allPaths = view.paths();
  const subjects = [
    ...boundary.principals.map((p) => ({ principal: p.name, login: p.logins.postgres, paths: allPaths.filter((a) => a.principal === p.name), holder: p.name })),
    { principal: "PUBLIC", login: input.publicProbe, paths: view.accessOf(PUBLIC), holder: PUBLIC },
  ];

  const attempts: Attempt[] = [];
  for (const subject of subjects) {
    const reachable = view.reachable(subject.holder);
    const createsSchemas = subject.holder === creator || reachable.has(creator);
    const held = holdingsOf(subject.paths);
    // PostgreSQL makes prod_writer, the only writer of prod (D1), the owner of every prod schema: it can drop one, not rename it (no CREATE on the database).
    for (const prod of boundary.schemas.filter((s) => s.kind === "prod")) {
      const h = held.get(prod.name);
      if (h?.write && reachable.has(PROD_WRITER)) h.owner = true;
    }
    // The boundary's CI schemas belong to their creator role.
    if (input.ciSchema && createsSchemas) held.set(input.ciSchema, { read: true, write: true, owner: true });
    const begin = [`BEGIN`, `SET LOCAL SESSION AUTHORIZATION ${q(subject.login)}`, ...settingsOf(subject.login)].join("; ");
    const plantIn = schemas.find((schema) => held.get(schema)?.write);
    const context = (schema: string): Context => ({
      schema,
      table: input.tables.get(schema) ?? "",
      tableOid: oidOf.get(schema) ?? 0,
      login: subject.login,
      holding: held.get(schema) ?? { read: false, write: false, owner: false },
      reachesWriter: reachable.has(PROD_WRITER),
      createsSchemas,
      creator,
      domain,
      plantIn,
    });
    const attempt = async (target: string, action: Action, c: Context) => {
      const spec = SPECS[action];
      const sql = spec.sql(c);
      const expected = spec.expect(c) ? "allowed" : "denied";
      let actual: Outcome;
      let detail: string | undefined;
      const session = spec.freshSession ? await input.loginAs(subject.login) : client;
      const notices: string[] = [];
      if (session !== client) session.on("notice", (notice) => notices.push(notice.message ?? ""));
      await session.query(spec.freshSession ? "BEGIN" : begin);
      try {
        await session.query(sql);
        const effect = spec.effect ? await spec.effect(session, c, baseline, notices) : { took: true };
        actual = effect.took ? "allowed" : "denied";
        detail = effect.detail ?? (effect.took ? undefined : "accepted without effect (no grant option)");
      } catch (error) {
        const e = error as { code?: string; message: string };
        if (e.code === "42501" || (e.code !== undefined && spec.refusals?.includes(e.code))) actual = "denied";
        else if (action === "copy_from_stdin" && e.code === "57014" && /COPY from stdin failed/.test(e.message)) actual = "allowed";
        else actual = "error";
        detail = e.message;
        try {
          const harm = await spec.effectOfFailure?.(c, notices);
          if (harm?.took) [actual, detail] = ["allowed", `${harm.detail}, then failed: ${e.message}`];
        } catch (judging) {
          [actual, detail] = ["error", (judging as Error).message];
        }
      } finally {
        await session.query("ROLLBACK");
        if (session !== client) await session.end();
      }
      attempts.push({
        principal: subject.principal, login: subject.login, target, action, sql, expected, actual, ok: actual === expected,
        ...(detail === undefined ? {} : { detail }),
      });
    };
    for (const schema of schemas) for (const action of SCHEMA_ACTIONS) await attempt(schema, action, context(schema));
    for (const action of DATABASE_ACTIONS) await attempt(DATABASE, action, context(""));
  }

  return {
    database,
    principals: subjects.map(({ principal, login }) => ({ principal, login })),
    targets: [...schemas, DATABASE],
    attempts,
    unexpected: attempts.filter((a) => !a.ok),
    durationMs: Math.round(performance.now() - started),
  };
}

const CELL: Record<string, string> = {
  "allowed/allowed": "y",
  "denied/denied": ".",
  "denied/allowed": "Y!",
  "allowed/denied": "N!",
};

/** A compact matrix: one row per principal and schema, one column per attempt; `y` allowed and `.` refused as the boundary says. */
export function renderMatrix(matrix: AttackMatrix): string {
  const actions: Action[] = [...SCHEMA_ACTIONS, ...DATABASE_ACTIONS];
  const byKey = new Map(matrix.attempts.map((a) => [`${a.principal}\u0000${a.target}\u0000${a.action}`, a]));
  const rowLabel = (p: { principal: string; login: string }) => (p.principal === p.login ? p.principal : `${p.principal} (${p.login})`);
  const labelWidth = Math.max(...matrix.principals.map((p) => rowLabel(p).length), "principal".length);
  const targetWidth = Math.max(...matrix.targets.map((t) => t.length), "schema".length);
  const widths = actions.map((a) => Math.max(ACTION_LABELS[a].length, 2));
  const line = (label: string, target: string, cells: string[]) =>
    `${label.padEnd(labelWidth)}  ${target.padEnd(targetWidth)}  ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" ")}`.trimEnd();

  const out: string[] = [
    `Attack matrix on ${matrix.database}: ${matrix.attempts.length} attempts, ${matrix.unexpected.length} unexpected (${matrix.durationMs} ms)`,
    line("principal", "schema", actions.map((a) => ACTION_LABELS[a])),
  ];
  for (const principal of matrix.principals) {
    for (const target of matrix.targets) {
      const cells = actions.map((action) => {
        const a = byKey.get(`${principal.principal}\u0000${target}\u0000${action}`);
        if (!a) return "";
        return a.actual === "error" ? "E!" : CELL[`${a.expected}/${a.actual}`]!;
      });
      out.push(line(rowLabel(principal), target, cells));
    }
  }
  out.push(
    "",
    "y allowed, as the boundary says   . refused, as the boundary says",
    "Y! allowed but the boundary forbids it   N! refused but the boundary allows it   E! failed for another reason",
    `Columns: ${actions.map((a) => `${ACTION_LABELS[a]} ${a.replaceAll("_", " ")}`).join(", ")}`,
  );
  if (matrix.unexpected.length > 0) {
    out.push("", `Unexpected (${matrix.unexpected.length}):`);
    for (const a of matrix.unexpected)
      out.push(`  ${a.principal} (${a.login}) ${a.target} ${a.action}: expected ${a.expected}, was ${a.actual}${a.detail ? ` (${a.detail})` : ""}\n    ${a.sql}`);
  }
  return `${out.join("\n")}\n`;
}
