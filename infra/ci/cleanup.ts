import type pg from "pg";
import { CI_BUILDER, CI_SCHEMA_PREFIX, likePrefix } from "../roster/naming";
import { CREATED_MARKER, parseCreatedMarker } from "./schema";

// Stale CI schemas: named ci_..., owned by ci_builder (or, for a restricted CI copy, by the provisioner, when the
// provisioner runs the cleanup), and created (by the marker createCiSchema writes) longer ago than the threshold. Anything else is listed with the reason it stays: an unmarked schema's age is unknown, and a guess
// could drop a schema a CI job is building into right now.

export type CleanupAction = "drop" | "keep" | "skip";

export interface CiSchemaVerdict {
  schema: string;
  owner: string;
  /** From the creation marker; null when there is none or it cannot be read. */
  createdAt: string | null;
  ageSeconds: number | null;
  /** drop: stale; keep: newer than the threshold; skip: not ours to judge (foreign owner, no readable marker). */
  action: CleanupAction;
  reason: string;
  /** After a real run, for schemas marked drop. */
  dropped?: boolean;
  error?: string;
}

export interface CleanupResult {
  dryRun: boolean;
  /** With --run: only that run's schemas are listed, and each is dropped whatever its age. */
  run?: string;
  olderThanSeconds: number;
  /** The server's clock when the catalog was read; ages are measured against it. */
  now: string;
  schemas: CiSchemaVerdict[];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** "24h", "90m", "2d", "1w" in seconds; a RangeError for anything else. */
export function parseAge(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2]!]! : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new RangeError(`--older-than "${text}": give a positive whole number and a unit: 90m, 24h, 2d, 1w`);
  return seconds;
}

/** "26.0h", "45m", "3.5d": an age as people read it. */
export function formatAge(seconds: number): string {
  if (seconds < 3_600) return `${Math.max(0, Math.floor(seconds / 60))}m`;
  if (seconds < 2 * 86_400) return `${(seconds / 3_600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}

interface CiRow {
  schema: string;
  owner: string;
  comment: string | null;
}

// current_user: a restricted CI copy belongs to the provisioner, so only a cleanup run as the provisioner may drop it.
const LIST_SQL = `
SELECT now() AS now, current_user AS me,
       coalesce(json_agg(json_build_object('schema', n.nspname, 'owner', pg_get_userbyid(n.nspowner),
                                           'comment', obj_description(n.oid, 'pg_namespace')) ORDER BY n.nspname)
                FILTER (WHERE n.oid IS NOT NULL), '[]') AS schemas
  FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname LIKE $1`;

/**
 * What cleanup does to one ci_ schema and why; `creator` is ci_builder as the platform names it (CI_BUILDER on
 * Snowflake). `copyOwner` is the session's own role when it may also drop restricted CI copies: only the provisioner
 * owns a marked ci_ schema besides ci_builder, since the marker is a comment only a schema's owner can write.
 */
export function judgeCiSchema(row: CiRow, now: Date, olderThanSeconds: number, options: { run?: string; creator?: string; copyOwner?: string } = {}): CiSchemaVerdict {
  const { run, creator = CI_BUILDER, copyOwner } = options;
  const base = { schema: row.schema, owner: row.owner, createdAt: null, ageSeconds: null };
  if (row.owner !== creator && row.owner !== copyOwner) return { ...base, action: "skip", reason: `owned by ${row.owner}, not ${creator}` };
  const created = parseCreatedMarker(row.comment);
  if (created === "none") return { ...base, action: "skip", reason: `no creation marker (${CREATED_MARKER}...) in its comment: age unknown` };
  if (created === "unreadable") return { ...base, action: "skip", reason: "its creation marker is not a UTC ISO time: age unknown" };
  const ageSeconds = Math.floor((now.getTime() - created.getTime()) / 1000);
  const dated = { ...base, createdAt: created.toISOString(), ageSeconds };
  if (run !== undefined) return { ...dated, action: "drop", reason: `made by run ${run}, ${formatAge(ageSeconds)} ago` };
  return ageSeconds > olderThanSeconds
    ? { ...dated, action: "drop", reason: `created ${formatAge(ageSeconds)} ago` }
    : { ...dated, action: "keep", reason: `created ${formatAge(ageSeconds)} ago: not older than ${formatAge(olderThanSeconds)}` };
}

/** A run's schemas: exactly ci_<run>_<domain> for these domains (a prefix alone would also match run <run>_x). */
export interface RunSchemas {
  run: string;
  names: readonly string[];
}

/** Every ci_ schema (or one run's) with what cleanup would do to it and why; reads the catalog once and changes nothing. */
export async function planCleanup(client: pg.Client, olderThanSeconds: number, only?: RunSchemas): Promise<CleanupResult> {
  const result = await client.query<{ now: Date; me: string; schemas: CiRow[] }>(LIST_SQL, [likePrefix(CI_SCHEMA_PREFIX)]);
  const { now, me, schemas } = result.rows[0]!;
  const listed = only === undefined ? schemas : schemas.filter((row) => only.names.includes(row.schema));
  return {
    dryRun: true, ...(only === undefined ? {} : { run: only.run }), olderThanSeconds, now: now.toISOString(),
    schemas: listed.map((row) => judgeCiSchema(row, now, olderThanSeconds, { copyOwner: me, ...(only === undefined ? {} : { run: only.run }) })),
  };
}

/** How long a drop waits for a CI job still using the schema before it gives up on that one. */
const LOCK_TIMEOUT = "10s";

/**
 * Drops each stale schema with DROP SCHEMA ... CASCADE, one transaction each, after checking again inside that
 * transaction that it still has the owner and the marker it was listed with. A failed drop is recorded and the rest go on.
 */
export async function cleanupCiSchemas(
  client: pg.Client,
  options: { olderThanSeconds: number; dryRun: boolean; run?: RunSchemas; onDrop?: (verdict: CiSchemaVerdict) => void | Promise<void> },
): Promise<CleanupResult> {
  const plan = await planCleanup(client, options.olderThanSeconds, options.run);
  if (options.dryRun) return plan;
  for (const verdict of plan.schemas.filter((v) => v.action === "drop")) {
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      const again = await client.query<CiRow>(
        "SELECT nspname AS schema, pg_get_userbyid(nspowner) AS owner, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1",
        [verdict.schema],
      );
      const row = again.rows[0];
      const marker = row && parseCreatedMarker(row.comment);
      if (row === undefined || row.owner !== verdict.owner || !(marker instanceof Date) || marker.toISOString() !== verdict.createdAt) {
        await client.query("ROLLBACK");
        verdict.dropped = false;
        verdict.error = row === undefined ? "already gone" : "changed since it was listed: left alone";
      } else {
        const outside = await client.query<{ schema: string }>(DEPENDENTS_OUTSIDE_SQL, [verdict.schema]);
        if (outside.rows.length > 0) {
          await client.query("ROLLBACK");
          verdict.dropped = false;
          verdict.error = `objects in ${outside.rows.map((r) => r.schema).join(", ")} depend on it (CASCADE would drop them): left alone`;
        } else {
          await client.query(`DROP SCHEMA ${client.escapeIdentifier(verdict.schema)} CASCADE`);
          await client.query("COMMIT");
          verdict.dropped = true;
        }
      }
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      verdict.dropped = false;
      verdict.error = error instanceof Error ? error.message : String(error);
    }
    await options.onDrop?.(verdict);
  }
  return { ...plan, dryRun: false };
}

/**
 * Schemas holding objects that depend on something in the CI schema: DROP … CASCADE would drop those too, so such a
 * schema is left for a person to look at. A schema's own parts are not dependents: PostgreSQL records TOAST tables, row
 * and array types and view rules as internal ('i') dependencies, and indexes, owned sequences, constraints, triggers and
 * column defaults as automatic ('a') ones, which DROP removes as part of their object (catalogs.html, pg_depend).
 */
const DEPENDENTS_OUTSIDE_SQL = `
WITH inside AS (
  SELECT 'pg_class'::regclass AS classid, c.oid FROM pg_class c WHERE c.relnamespace = $1::regnamespace
  UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE t.typnamespace = $1::regnamespace
  UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p WHERE p.pronamespace = $1::regnamespace),
dependent AS (
  SELECT d.classid, d.objid,
         -- The relation a dependent belongs to, for the kinds that live on a relation.
         CASE d.classid WHEN 'pg_class'::regclass THEN d.objid
                        WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
                        WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
                        WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
                        WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid) END AS relid
    FROM pg_depend d JOIN inside i ON d.refclassid = i.classid AND d.refobjid = i.oid
   WHERE d.deptype NOT IN ('i', 'a'))
SELECT DISTINCT schema FROM (
  SELECT coalesce(n.nspname, (pg_identify_object(d.classid, d.objid, 0)).schema, pg_describe_object(d.classid, d.objid, 0)) AS schema
    FROM dependent d
    LEFT JOIN pg_class dc ON dc.oid = d.relid
    LEFT JOIN pg_constraint con ON d.classid = 'pg_constraint'::regclass AND con.oid = d.objid
    LEFT JOIN pg_class conrel ON conrel.oid = con.conrelid
    LEFT JOIN pg_proc dp ON d.classid = 'pg_proc'::regclass AND dp.oid = d.objid
    LEFT JOIN pg_type dt ON d.classid = 'pg_type'::regclass AND dt.oid = d.objid
    LEFT JOIN pg_namespace n ON n.oid = coalesce(dc.relnamespace, conrel.relnamespace, con.connamespace, dp.pronamespace, dt.typnamespace)) found
 WHERE schema::text <> $1::regnamespace::text
 ORDER BY 1`;

/** A failed drop is a failure; a schema that vanished on its own is not. */
export const cleanupFailed = (result: CleanupResult): boolean =>
  result.schemas.some((v) => v.dropped === false && v.error !== "already gone");
