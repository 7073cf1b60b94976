import { CI_SCHEMA_PREFIX, snowflakeName } from "../../roster/naming";
import { quoted } from "./identifiers";
import { SNOWFLAKE_PRIVILEGES } from "./privileges";

// CI creates schemas only through CREATE_CI_SCHEMA: CREATE SCHEMA on the database would let it create, or rename to, a PROD_ name (D1).
// Pure, so the interpreter and the policy pack can recognise the procedure by its exact body. Snowflake Scripting as in
// docs "Snowflake Scripting" (DECLARE, EXCEPTION blocks, RAISE, EXECUTE IMMEDIATE) and "CREATE SCHEMA" (TRANSIENT).

export const CI_SCHEMA_PROCEDURE = "CREATE_CI_SCHEMA";
export const CI_SCHEMA_PROCEDURE_ARGUMENTS = [
  { argName: "RUN", argDataType: "VARCHAR" },
  { argName: "DOMAIN", argDataType: "VARCHAR" },
] as const;
export const CI_SCHEMA_PROCEDURE_RETURNS = "VARCHAR";
/** The only names the procedure creates, as the interpreter reports them. */
export const CI_SCHEMA_NAMES = `${snowflakeName(CI_SCHEMA_PREFIX)}<RUN>_<DOMAIN>`;

const IDENTIFIER = /^[A-Z][A-Z0-9_]*$/;
/** What a creation marker may look like: it goes into a SQL string literal, so no quote can reach it. */
const MARKER = /^[a-z][a-z-]*:[a-z]+=$/;
/** A run id in a Snowflake CI schema name: letters and digits, no _, so CI_<RUN>_<DOMAIN> splits one way only. */
export const SNOWFLAKE_CI_RUN = /^[A-Za-z0-9]+$/;

export interface CiSchemaProcedureSpec {
  database: string;
  /** The role that owns every CI schema (CI_BUILDER). */
  creator: string;
  /** The provisioner's role: it owns the procedure and so runs it. A schema it made but never handed over is finished, not refused. */
  owner: string;
  marker: string;
  /** Domains whose prod schema the creator reads: the only ones CI may copy. Upper case. */
  domains: readonly string[];
  /** Restricted domains the creator cannot read, refused with their own message (D5). Upper case. */
  restricted: readonly string[];
  /** Restricted domains the creator reads (CI listed among their readers): their CI schemas stay the owner's, managed
   *  access, with the creator's CREATE privileges, so no CI run can share them (D5). Upper case, among `domains`. */
  copies: readonly string[];
}

const sqlList = (names: readonly string[]): string => `ARRAY_CONSTRUCT(${names.map((n) => `'${n}'`).join(", ")})`;

/**
 * The body. RUN and DOMAIN reach SQL text only once they match their patterns, and then double-quoted. Snowflake DDL
 * commits on its own, so: the schema is TRANSIENT (a dropped one costs no Fail-safe storage), the hand-over runs in a
 * block that drops the schema again if it fails, and a schema left half-made anyway (the owner's, with the marker) is
 * handed over by the next call instead of blocking every later one. A restricted domain's copy (CI among its readers)
 * stays with the owner, managed access, the creator holding USAGE and CREATE: only the owner grants there, so no CI
 * run can share it (D5).
 */
export function createCiSchemaBody(spec: CiSchemaProcedureSpec): string {
  const { database, creator, owner, marker, domains, restricted, copies } = spec;
  // What the creator gets on a copy: what "write" means on a schema (USAGE and the CREATEs), never OWNERSHIP.
  const copyPrivileges = SNOWFLAKE_PRIVILEGES.write.schema;
  const names: [string, string][] = [["database", database], ["creator", creator], ["owner", owner],
    ...domains.map((d): [string, string] => ["domain", d]), ...restricted.map((d): [string, string] => ["restricted domain", d]),
    ...copies.map((d): [string, string] => ["copied domain", d])];
  for (const [what, value] of names)
    if (!IDENTIFIER.test(value)) throw new RangeError(`CREATE_CI_SCHEMA: ${what} "${value}" is not an upper-case Snowflake identifier`);
  if (!MARKER.test(marker)) throw new RangeError(`CREATE_CI_SCHEMA: creation marker "${marker}" is not of the form word:word=`);
  const db = quoted(database);
  const ci = snowflakeName(CI_SCHEMA_PREFIX);
  // Both kinds of CI schema are made one way: refused if another role's, else created and stamped by the server's clock.
  const createUnlessOurs = (indent: string, access: string): string => [
    `IF (owner_role IS NOT NULL AND NOT (owner_role = '${owner}' AND STARTSWITH(schema_comment, '${marker}'))) THEN`,
    "  RAISE taken;",
    "END IF;",
    "IF (owner_role IS NULL) THEN",
    `  ddl := 'CREATE TRANSIENT SCHEMA ${db}."' || schema_name || '"${access} COMMENT = ''${marker}' || TO_VARCHAR(SYSDATE(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''';`,
    "  EXECUTE IMMEDIATE :ddl;",
    "END IF;",
  ].map((line) => `${indent}${line}\n`).join("");
  return `
DECLARE
  run_id VARCHAR;
  domain_name VARCHAR;
  schema_name VARCHAR;
  owner_role VARCHAR;
  schema_comment VARCHAR;
  ddl VARCHAR;
  invalid_name EXCEPTION (-20001, 'CI schemas are ${ci}<RUN>_<DOMAIN>: RUN is letters and digits only (no _), DOMAIN starts with a letter');
  unknown_domain EXCEPTION (-20002, 'CI schemas are made only for domains with a prod schema ${creator} reads');
  taken EXCEPTION (-20003, 'that schema exists and ${creator} does not own it');
  restricted_domain EXCEPTION (-20004, 'that domain is restricted and CI is not one of its readers: add the purpose: ci account to its readers in team.yaml');
BEGIN
  run_id := UPPER(RUN);
  domain_name := UPPER(DOMAIN);
  IF (run_id IS NULL OR domain_name IS NULL OR NOT REGEXP_LIKE(run_id, '^[A-Z0-9]+$') OR NOT REGEXP_LIKE(domain_name, '^[A-Z][A-Z0-9_]*$')) THEN
    RAISE invalid_name;
  END IF;
  IF (ARRAY_CONTAINS(domain_name::VARIANT, ${sqlList(restricted)})) THEN
    RAISE restricted_domain;
  END IF;
  IF (NOT ARRAY_CONTAINS(domain_name::VARIANT, ${sqlList(domains)})) THEN
    RAISE unknown_domain;
  END IF;
  schema_name := '${ci}' || run_id || '_' || domain_name;
  IF (LENGTH(schema_name) > 255) THEN
    RAISE invalid_name;
  END IF;
  SELECT MAX(SCHEMA_OWNER), MAX(COMMENT) INTO :owner_role, :schema_comment FROM ${db}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = :schema_name;
  IF (owner_role = '${creator}') THEN
    RETURN schema_name;
  END IF;
  IF (ARRAY_CONTAINS(domain_name::VARIANT, ${sqlList(copies)})) THEN
${createUnlessOurs("    ", " WITH MANAGED ACCESS")}    ddl := 'GRANT ${copyPrivileges.join(", ")} ON SCHEMA ${db}."' || schema_name || '" TO ROLE ${quoted(creator)}';
    EXECUTE IMMEDIATE :ddl;
    RETURN schema_name;
  END IF;
${createUnlessOurs("  ", "")}  BEGIN
    ddl := 'GRANT OWNERSHIP ON SCHEMA ${db}."' || schema_name || '" TO ROLE ${quoted(creator)} COPY CURRENT GRANTS';
    EXECUTE IMMEDIATE :ddl;
  EXCEPTION
    WHEN OTHER THEN
      ddl := 'DROP SCHEMA IF EXISTS ${db}."' || schema_name || '"';
      EXECUTE IMMEDIATE :ddl;
      RAISE;
  END;
  RETURN schema_name;
END;
`;
}

/** Whitespace folded. The provider sends the body verbatim and diffs it with whitespace folded and case ignored
 *  (v1.2.1 pkg/resources/common.go DiffSuppressStatement); we keep case, which changes what a string literal means. */
const folded = (text: string): string => text.replace(/\s+/g, " ").trim();

/** The quoted names of ARRAY_CONSTRUCT(...) right after `before` in a folded body. */
function listAfter(definition: string, before: string): string[] | undefined {
  const at = definition.indexOf(before);
  if (at < 0) return undefined;
  const list = /^ARRAY_CONSTRUCT\(([^)]*)\)/.exec(definition.slice(at + before.length))?.[1];
  return list === undefined ? undefined : list === "" ? [] : list.split(", ").map((item) => item.replace(/^'|'$/g, ""));
}

/** The role a procedure hands CI schemas to when its body is exactly CREATE_CI_SCHEMA's for its database; undefined for any other. */
export function ciSchemaCreatorOf(procedure: { database: string; definition: string; argumentTypes: readonly string[] }): string | undefined {
  if (procedure.argumentTypes.join() !== CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => a.argDataType).join()) return undefined;
  const definition = folded(procedure.definition);
  const creator = /TO ROLE "([A-Z][A-Z0-9_]*)" COPY CURRENT GRANTS/.exec(definition)?.[1];
  const marker = /COMMENT = ''([^']*)' \|\| TO_VARCHAR/.exec(definition)?.[1];
  const owner = /owner_role = '([A-Z][A-Z0-9_]*)' AND STARTSWITH/.exec(definition)?.[1];
  const restricted = listAfter(definition, "IF (ARRAY_CONTAINS(domain_name::VARIANT, ");
  const domains = listAfter(definition, "IF (NOT ARRAY_CONTAINS(domain_name::VARIANT, ");
  const copies = creator === undefined ? undefined : listAfter(definition, `IF (owner_role = '${creator}') THEN RETURN schema_name; END IF; IF (ARRAY_CONTAINS(domain_name::VARIANT, `);
  if (creator === undefined || marker === undefined || owner === undefined || restricted === undefined || domains === undefined || copies === undefined) return undefined;
  try {
    const body = createCiSchemaBody({ database: procedure.database, creator, owner, marker, domains, restricted, copies });
    return definition === folded(body) ? creator : undefined;
  } catch {
    return undefined;
  }
}
