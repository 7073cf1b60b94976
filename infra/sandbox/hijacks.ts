// Look-alike attacks on ci.create_schema, the one SECURITY DEFINER function a login can call: the attacker plants objects
// named like what the body uses, puts them first on its search_path, proves each one catches its own unqualified use
// (a trap that does not bite proves nothing), then calls the function and checks that none of them ran inside it.
//
// Each attempt runs in a session of its own, logged in for real: PL/pgSQL resolves a function's DECLARE types when it
// compiles the function, once per session, so a session that already called it would never meet a type look-alike.
// Where they are planted:
// - in a schema the attacker can write (its CI schema, a developer's own schema): functions, operators, a type `text`
//   with an assignment cast from pg_catalog.text, a collation "C"; the schema is opened to PUBLIC (USAGE), as an
//   attacker would, so the provisioner running the body can see it;
// - in pg_temp, which every login can write (TEMP is PUBLIC's by default): a domain `text` whose CHECK logs, a view
//   pg_namespace. pg_temp is never searched for functions or operators (PostgreSQL docs, "search_path"), nor, as the
//   non-vacuity check found, for collations: those look-alikes live only in the attacker's schema.
// Every trap reports itself with a NOTICE naming the role it ran as: a notice reaches the client even when the statement
// then fails and rolls back, and code that ran as the provisioner is a breach whether or not the call went on to succeed.

import type pg from "pg";
import { CREATED_MARKER } from "../ci/schema";
import { CI_FUNCTION_SCHEMA } from "../platforms/postgres";
import { ciSchemaName } from "../roster/naming";
import { quoteIdentifier as q, quoteLiteral as literal } from "./apply";

export const CI_CREATE_SCHEMA = `${CI_FUNCTION_SCHEMA}.create_schema`;

/** The hijacks, by the attack matrix's action names. */
export const HIJACK_ACTIONS = ["ci_schema_search_path_hijack", "ci_schema_type_hijack", "ci_schema_temp_hijack"] as const;
export type HijackAction = (typeof HIJACK_ACTIONS)[number];

/** Who attacks, and where it may plant. */
export interface HijackContext {
  /** A schema the attacker may create objects in; none for PUBLIC. */
  plantIn: string | undefined;
  /** A domain with a prod schema: what a legitimate call names. */
  domain: string;
  /** The CI role, which alone may own ci_ schemas. */
  creator: string;
}

/** What a hijack attempt did: `took` means code the attacker planted ran inside the call. */
export interface HijackEffect {
  took: boolean;
  detail: string;
}

const NOTICE_PREFIX = "sandbox-trap";
const HIJACK_RUN = "sandboxhijack";

/** A planted look-alike: the statements that plant it (in `at`, a quoted schema or pg_temp) and the caller's own use of it. */
interface Trap {
  name: string;
  plant(at: string): string[];
  /** The caller's own unqualified use, which must report the trap. */
  control(at: string): string;
}

const log = (at: string, trap: string) => `SELECT ${at}.trap_log(${literal(trap)}, pg_catalog."current_user"()::pg_catalog.text);`;

/** Look-alikes of what the body calls unqualified: [name, signature, returns, the real call]. */
const FUNCTION_TRAPS: readonly [string, string, string, string][] = [
  ["quote_ident", "text", "text", "pg_catalog.quote_ident($1)"],
  ["to_regnamespace", "text", "regnamespace", "pg_catalog.to_regnamespace($1)"],
  ["octet_length", "text", "integer", "pg_catalog.octet_length($1)"],
  ["pg_get_userbyid", "oid", "name", "pg_catalog.pg_get_userbyid($1)"],
  ["format", "text, text, text", "text", "pg_catalog.format($1, $2, $3)"],
  ["now", "", "timestamptz", "pg_catalog.now()"],
  ["to_char", "timestamp, text", "text", "pg_catalog.to_char($1, $2)"],
  ["current_setting", "text", "text", "pg_catalog.current_setting($1)"],
  ["set_config", "text, text, boolean", "text", "pg_catalog.set_config($1, $2, $3)"],
];
const FUNCTION_CONTROLS: Record<string, string> = {
  quote_ident: "quote_ident('x')", to_regnamespace: "to_regnamespace('x')", octet_length: "octet_length('x'::text)",
  pg_get_userbyid: "pg_get_userbyid(10)", format: "format('%s %s', 'a'::text, 'b')", now: "now()",
  to_char: "to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY')", current_setting: "current_setting('search_path')",
  set_config: "set_config('sandbox.unused', 'x', true)",
};
/** [operator, left, right, trap function, the real function, the caller's own use]. AT TIME ZONE calls pg_catalog.timezone by name. */
const OPERATOR_TRAPS: readonly [string, string, string, string, string, string][] = [
  ["||", "text", "text", "trap_textcat", "pg_catalog.textcat", "'a'::text || 'b'::text"],
  ["!~", "text", "text", "trap_textregexne", "pg_catalog.textregexne", "'a'::text !~ 'b'"],
  ["=", "name", "text", "trap_nameeqtext", "pg_catalog.nameeqtext", "'a'::name = 'b'::text"],
  ["<>", "text", "text", "trap_textne", "pg_catalog.textne", "'a'::text <> 'b'"],
  [">", "integer", "integer", "trap_int4gt", "pg_catalog.int4gt", "1 > 2"],
];

const functionTraps: Trap[] = FUNCTION_TRAPS.map(([name, args, returns, real]) => ({
  name,
  plant: (at) => [`CREATE FUNCTION ${at}.${name}(${args}) RETURNS ${returns} LANGUAGE sql AS $trap$ ${log(at, name)} SELECT ${real} $trap$`],
  control: () => FUNCTION_CONTROLS[name]!,
}));
const operatorTraps: Trap[] = OPERATOR_TRAPS.map(([op, left, right, fn, real, control]) => ({
  name: op,
  plant: (at) => [
    `CREATE FUNCTION ${at}.${fn}(${left}, ${right}) RETURNS ${op === "||" ? "text" : "boolean"} LANGUAGE sql AS $trap$ ${log(at, op)} SELECT ${real}($1, $2) $trap$`,
    `CREATE OPERATOR ${at}.${op} (LEFTARG = ${left}, RIGHTARG = ${right}, FUNCTION = ${at}.${fn})`,
  ],
  control: () => control,
}));
// pg_temp comes before everything for relations unless the path places it, so a temporary view needs no path at all.
const relationTrap: Trap = {
  name: "pg_namespace",
  plant: (at) => [`CREATE TEMPORARY VIEW pg_namespace AS SELECT n.* FROM pg_catalog.pg_namespace n, LATERAL (${log(at, "pg_namespace").replace(/;$/, "")}) t`],
  control: () => "(SELECT count(*) FROM pg_namespace)",
};
/** A type `text` (a range type: a composite one would not even compile into the body), reached by an assignment cast that runs the trap. */
const typeAndCastTrap: Trap = {
  name: "text (type and cast)",
  plant: (at) => [
    `CREATE TYPE ${at}.text AS RANGE (subtype = pg_catalog.int4)`,
    `CREATE FUNCTION ${at}.trap_text(v pg_catalog.text) RETURNS ${at}.text LANGUAGE sql AS $trap$ ${log(at, "text (type and cast)")} SELECT ${at}.text(1, 2) $trap$`,
    `CREATE CAST (pg_catalog.text AS ${at}.text) WITH FUNCTION ${at}.trap_text(pg_catalog.text) AS ASSIGNMENT`,
  ],
  control: () => "('x'::pg_catalog.text::text) IS NOT NULL",
};
/** A domain `text` whose CHECK runs the trap each time a value becomes that type. */
const domainTrap: Trap = {
  name: "text (domain)",
  plant: (at) => [
    `CREATE FUNCTION ${at}.trap_check(v pg_catalog.text) RETURNS boolean LANGUAGE sql AS $trap$ ${log(at, "text (domain)")} SELECT true $trap$`,
    `CREATE DOMAIN ${at}.text AS pg_catalog.text CHECK (${at}.trap_check(VALUE))`,
  ],
  control: () => "('x'::text) IS NOT NULL",
};
/** A case-blind "C": were the body to compare with COLLATE "C", owner checks could be fooled by case. It runs no code, so
 *  its control reports it when it changes a comparison; inside the body it could only change comparisons, never run. */
const collationTrap: Trap = {
  name: 'collation "C"',
  plant: (at) => [`CREATE COLLATION ${at}."C" (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`],
  control: (at) => `CASE WHEN 'A' = 'a' COLLATE "C" THEN ${log(at, 'collation "C"').replace(/^SELECT |;$/g, "")} ELSE false END`,
};

interface Hijack {
  /** Where the traps go: the attacker's schema, or pg_temp. */
  place: "schema" | "pg_temp";
  traps: Trap[];
}

const HIJACKS: Record<HijackAction, Hijack> = {
  ci_schema_search_path_hijack: { place: "schema", traps: [...functionTraps, ...operatorTraps, relationTrap] },
  ci_schema_type_hijack: { place: "schema", traps: [typeAndCastTrap, collationTrap] },
  ci_schema_temp_hijack: { place: "pg_temp", traps: [domainTrap, relationTrap] },
};

/** A schema's owner and comment; every name qualified, so it reads the catalog even under a hijacked search_path. */
export async function ciSchemaOf(client: pg.Client, name: string): Promise<{ owner: string; comment: string | null } | undefined> {
  const found = await client.query<{ owner: string; comment: string | null }>(
    "SELECT n.nspowner::pg_catalog.regrole::pg_catalog.text AS owner, pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) $1",
    [name],
  );
  return found.rows[0];
}

/** The attempt's statements: plant, prove each trap bites, then the legitimate call under the hijacking path. */
export function hijackSql(action: HijackAction, c: HijackContext): string {
  const hijack = HIJACKS[action];
  const call = `SELECT ${CI_CREATE_SCHEMA}(${literal(HIJACK_RUN)}, ${literal(c.domain)}) AS made`;
  const at = placeOf(hijack, c);
  if (at === undefined) return call;
  return [
    `CREATE FUNCTION ${at}.trap_log(trap text, role text) RETURNS boolean LANGUAGE plpgsql AS $trap$ BEGIN RAISE NOTICE '${NOTICE_PREFIX}\t%\t%\t%', pg_catalog.current_setting('sandbox.phase', true), role, trap; RETURN true; END $trap$`,
    ...(hijack.place === "schema" ? [`GRANT USAGE ON SCHEMA ${at} TO PUBLIC`] : []),
    ...hijack.traps.flatMap((t) => t.plant(at)),
    `SET LOCAL search_path = ${at}, pg_catalog`,
    `SET LOCAL sandbox.phase = 'control'`,
    `SELECT ${hijack.traps.map((t) => t.control(at)).join(", ")}`,
    `SET LOCAL sandbox.phase = 'call'`,
    call,
  ].join(";\n");
}

const placeOf = (hijack: Hijack, c: HijackContext): string | undefined =>
  hijack.place === "pg_temp" ? "pg_temp" : c.plantIn === undefined ? undefined : q(c.plantIn);

/** The traps' reports among a session's notices: [phase, role, trap]. */
const reports = (notices: readonly string[]) =>
  notices.filter((n) => n.startsWith(`${NOTICE_PREFIX}\t`)).map((n) => n.split("\t").slice(1) as [string, string, string]);

/**
 * Judges a hijack from the notices of its session: an error if a trap did not catch the caller's own use (the attempt
 * would prove nothing), `took` if any trap ran inside the call. With `client` (the call returned), also checks that the
 * call made the schema it always makes.
 */
export async function hijackEffect(action: HijackAction, c: HijackContext, notices: readonly string[], client?: pg.Client): Promise<HijackEffect | undefined> {
  const hijack = HIJACKS[action];
  if (placeOf(hijack, c) === undefined) return client ? { took: false, detail: "nothing planted: the call itself went through" } : undefined;
  const seen = reports(notices);
  const armed = new Set(seen.filter(([phase]) => phase === "control").map(([, , trap]) => trap));
  const unarmed = hijack.traps.filter((t) => !armed.has(t.name)).map((t) => t.name);
  if (unarmed.length > 0) throw new Error(`planted look-alikes that did not catch the caller's own use: ${unarmed.join(", ")}`);
  const ran = seen.filter(([phase]) => phase === "call");
  if (ran.length > 0) return { took: true, detail: `ran ${[...new Set(ran.map(([, role, trap]) => `${trap} as ${role}`))].join(", ")}` };
  if (client === undefined) return undefined;
  const name = ciSchemaName(HIJACK_RUN, c.domain);
  const row = await ciSchemaOf(client, name);
  if (row === undefined || row.owner !== c.creator || !row.comment?.startsWith(CREATED_MARKER))
    return { took: true, detail: `ran none of the look-alikes, but did not make ${name} for ${c.creator} as it should` };
  return { took: false, detail: `ran none of the ${hijack.traps.length} look-alikes (${hijack.traps.map((t) => t.name).join(", ")}), each of which caught the caller's own use, and made ${name} as usual` };
}
