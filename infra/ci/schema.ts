import type pg from "pg";
import { CI_BUILDER, DOMAIN_NAME, POSTGRES_NAME_LIMIT, ciSchemaName } from "../roster/naming";

// CI schemas and their creation marker. PostgreSQL records no creation time for a schema, so the one way CI makes a
// schema, the program's ci.create_schema(run, domain) (SECURITY DEFINER, see platforms/postgres), writes it into the
// schema's comment in the same transaction, from the server's clock:
//
//   COMMENT ON SCHEMA ci_1234_sales IS 'warehouse-access:created=2025-01-31T09:15:00Z'
//
// Only the schema's owner (ci_builder) can change that comment, and it survives restarts, dumps and restores.

export const CREATED_MARKER = "warehouse-access:created=";

/**
 * A CI run id as it goes into a schema name: lowercase letters and digits. No underscore, as on Snowflake: domains may
 * hold one, so run 42_eu of domain sales and run 42 of domain eu_sales would both be ci_42_eu_sales.
 */
export const CI_RUN = /^[a-z0-9]+$/;

/** What a run id may be, for the messages that refuse one. */
export const CI_RUN_RULE = "use lowercase letters and digits, no underscore (a CI run number or id)";

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The creation time in a schema comment: a Date, "none" when the comment carries no marker, "unreadable" when it is not a UTC ISO time. */
export function parseCreatedMarker(comment: string | null): Date | "none" | "unreadable" {
  const line = comment?.split("\n").map((l) => l.trim()).find((l) => l.startsWith(CREATED_MARKER));
  if (line === undefined) return "none";
  const value = line.slice(CREATED_MARKER.length);
  const time = Date.parse(value);
  return ISO_UTC.test(value) && Number.isFinite(time) ? new Date(time) : "unreadable";
}

export const createdMarker = (at: Date): string => `${CREATED_MARKER}${at.toISOString()}`;

/** Checks a run and domain before any SQL: the name they make must fit PostgreSQL's limit untruncated. */
export function ciSchemaNameFor(run: string, domain: string): string {
  if (!CI_RUN.test(run)) throw new RangeError(`--run "${run}": ${CI_RUN_RULE}`);
  if (!DOMAIN_NAME.test(domain)) throw new RangeError(`--domain "${domain}": a domain is lowercase letters, digits and underscores, starting with a letter`);
  const name = ciSchemaName(run, domain);
  if (Buffer.byteLength(name) > POSTGRES_NAME_LIMIT)
    throw new RangeError(`${name} is ${Buffer.byteLength(name)} bytes; PostgreSQL names are at most ${POSTGRES_NAME_LIMIT}. Use a shorter run id`);
  return name;
}

export interface CiSchema {
  schema: string;
  owner: string;
  createdAt: string;
  /** False when the schema already existed with its marker (a re-run of the same CI job): the original time stands. */
  created: boolean;
}

/** Thrown when the name is taken by a schema that ci.create_schema did not make, so CI never builds into someone else's schema. */
export class CiSchemaTaken extends Error {}

/** The program's function that creates CI schemas: callable by ci_builder, runs as the provisioner. */
export const CREATE_CI_SCHEMA_FUNCTION = "ci.create_schema";

/** A restricted copy belongs to the provisioner, with CREATE for ci_builder; any other CI schema to ci_builder. */
const STATE_SQL = `SELECT pg_get_userbyid(nspowner) AS owner, obj_description(oid, 'pg_namespace') AS comment,
  pg_get_userbyid(nspowner) <> '${CI_BUILDER}' AND has_schema_privilege('${CI_BUILDER}', oid, 'CREATE') AS copy
  FROM pg_namespace WHERE nspname = $1`;

/**
 * Creates ci_<run>_<domain> through ci.create_schema, which makes it owned by ci_builder (a restricted domain's, when CI
 * is among its readers: owned by the provisioner, with USAGE and CREATE for ci_builder) and stamps its creation time,
 * and returns what the catalog then says. The connecting login needs EXECUTE on the function (ci_builder holds it).
 */
export async function createCiSchema(client: pg.Client, run: string, domain: string): Promise<CiSchema> {
  const name = ciSchemaNameFor(run, domain);
  const before = (await client.query<{ owner: string; comment: string | null; copy: boolean }>(STATE_SQL, [name])).rows[0];
  if (before !== undefined && ((before.owner !== CI_BUILDER && !before.copy) || !(parseCreatedMarker(before.comment) instanceof Date)))
    throw new CiSchemaTaken(`schema ${name} already exists, ${before.owner === CI_BUILDER || before.copy ? "without a creation marker" : `owned by ${before.owner}`}: ${CREATE_CI_SCHEMA_FUNCTION} did not make it, so CI must not build into it`);
  await client.query(`SELECT ${CREATE_CI_SCHEMA_FUNCTION}($1, $2)`, [run, domain]);
  const after = (await client.query<{ owner: string; comment: string | null }>(STATE_SQL, [name])).rows[0];
  const marker = parseCreatedMarker(after?.comment ?? null);
  if (after === undefined || !(marker instanceof Date)) throw new Error(`${CREATE_CI_SCHEMA_FUNCTION} returned, but ${name} has no creation marker`);
  return { schema: name, owner: after.owner, createdAt: marker.toISOString(), created: before === undefined };
}
