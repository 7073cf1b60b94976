import { CI_SCHEMA_PREFIX, PROD_SCHEMA_PREFIX, snowflakeName } from "../../roster/naming";
import { quoted } from "./identifiers";

// CI creates schemas only through CREATE_CI_SCHEMA: CREATE SCHEMA on the database would let it create, or rename to, a PROD_ name (D1).
// Pure, so the interpreter and the policy pack can recognise the procedure by its exact body.

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

/** The body: RUN and DOMAIN reach SQL text only once they match their patterns, and then double-quoted; no `--`, since the provider folds whitespace. */
export function createCiSchemaBody(database: string, creator: string, marker: string): string {
  for (const [what, value] of [["database", database], ["creator", creator]] as const)
    if (!IDENTIFIER.test(value)) throw new RangeError(`CREATE_CI_SCHEMA: ${what} "${value}" is not an upper-case Snowflake identifier`);
  if (!MARKER.test(marker)) throw new RangeError(`CREATE_CI_SCHEMA: creation marker "${marker}" is not of the form word:word=`);
  const db = quoted(database);
  const ci = snowflakeName(CI_SCHEMA_PREFIX);
  const prod = snowflakeName(PROD_SCHEMA_PREFIX);
  return `
DECLARE
  run_id VARCHAR;
  domain_name VARCHAR;
  schema_name VARCHAR;
  owner_role VARCHAR;
  prod_schemas INTEGER;
  ddl VARCHAR;
  invalid_name EXCEPTION (-20001, 'CI schemas are ${ci}<RUN>_<DOMAIN>: RUN is letters, digits and _; DOMAIN starts with a letter');
  unknown_domain EXCEPTION (-20002, 'CI schemas are made only for domains with a prod schema');
  taken EXCEPTION (-20003, 'that schema exists and ${creator} does not own it');
BEGIN
  run_id := UPPER(RUN);
  domain_name := UPPER(DOMAIN);
  IF (run_id IS NULL OR domain_name IS NULL OR NOT REGEXP_LIKE(run_id, '^[A-Z0-9][A-Z0-9_]*$') OR NOT REGEXP_LIKE(domain_name, '^[A-Z][A-Z0-9_]*$')) THEN
    RAISE invalid_name;
  END IF;
  schema_name := '${ci}' || run_id || '_' || domain_name;
  IF (LENGTH(schema_name) > 255) THEN
    RAISE invalid_name;
  END IF;
  SELECT COUNT(*) INTO :prod_schemas FROM ${db}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = '${prod}' || :domain_name;
  IF (prod_schemas = 0) THEN
    RAISE unknown_domain;
  END IF;
  SELECT MAX(SCHEMA_OWNER) INTO :owner_role FROM ${db}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = :schema_name;
  IF (owner_role IS NULL) THEN
    ddl := 'CREATE SCHEMA IF NOT EXISTS ${db}."' || schema_name || '" COMMENT = ''${marker}' || TO_VARCHAR(SYSDATE(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''';
    EXECUTE IMMEDIATE :ddl;
    ddl := 'GRANT OWNERSHIP ON SCHEMA ${db}."' || schema_name || '" TO ROLE ${quoted(creator)} COPY CURRENT GRANTS';
    EXECUTE IMMEDIATE :ddl;
  ELSEIF (owner_role <> '${creator}') THEN
    RAISE taken;
  END IF;
  RETURN schema_name;
END;
`;
}

/** Whitespace folded, as the provider stores a procedure definition. */
const folded = (text: string): string => text.replace(/\s+/g, " ").trim();

/** The role a procedure hands CI schemas to when its body is exactly CREATE_CI_SCHEMA's for its database; undefined for any other. */
export function ciSchemaCreatorOf(procedure: { database: string; definition: string; argumentTypes: readonly string[] }): string | undefined {
  if (procedure.argumentTypes.join() !== CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => a.argDataType).join()) return undefined;
  const definition = folded(procedure.definition);
  const creator = /TO ROLE "([A-Z][A-Z0-9_]*)" COPY CURRENT GRANTS/.exec(definition)?.[1];
  const marker = /COMMENT = ''([^']*)' \|\| TO_VARCHAR/.exec(definition)?.[1];
  if (creator === undefined || marker === undefined || !IDENTIFIER.test(procedure.database) || !MARKER.test(marker)) return undefined;
  return definition === folded(createCiSchemaBody(procedure.database, creator, marker)) ? creator : undefined;
}
