import { quoted } from "../platforms/snowflake/identifiers";
import { CI_BUILDER, CI_SCHEMA_PREFIX, snowflakeName } from "../roster/naming";
import type { SnowflakeSession } from "../audit/snowflake/session";
import { SHOW_SCHEMAS, readRows, textOf, type ResultShape } from "../audit/snowflake/shapes";
import { judgeCiSchema, type CiSchemaVerdict, type CleanupResult } from "./cleanup";
import { parseCreatedMarker } from "./schema";

// Stale CI schemas on Snowflake, with PostgreSQL's guarantees: only CI_BUILDER's schemas named CI_... (and, run with
// the provisioner's role, the restricted CI copies that role owns: only an owner can write the marker), carrying the
// creation marker CREATE_CI_SCHEMA writes, older than the threshold; each looked up again just before its drop (DDL
// commits on its own in Snowflake, so the check and the drop cannot share a transaction), dropped RESTRICT so a schema
// whose tables other schemas reference by foreign key stays (docs "DROP SCHEMA": RESTRICT).

const CREATOR = snowflakeName(CI_BUILDER);
const PREFIX = snowflakeName(CI_SCHEMA_PREFIX);

const NOW: ResultShape = {
  what: "SELECT SYSDATE(), CURRENT_ROLE()", source: "docs.snowflake.com/en/sql-reference/functions/sysdate, …/current_role", columns: { NOW: ["text"], ROLE: ["text"] },
};
/** DROP returns one row with a status message (docs "DROP SCHEMA", Output: "<name> successfully dropped."). */
const DROPPED: ResultShape = { what: "DROP SCHEMA", source: "docs.snowflake.com/en/sql-reference/sql/drop-schema", columns: { status: ["text"] } };

const NOW_SQL = `SELECT TO_VARCHAR(SYSDATE(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS NOW, CURRENT_ROLE() AS ROLE`;
const sqlString = (text: string): string => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
/** SHOW's LIKE is case-insensitive and `_` matches any character: rows are filtered again by exact name. */
const listSql = (database: string, like: string): string => `SHOW SCHEMAS LIKE ${sqlString(like)} IN DATABASE ${quoted(database)}`;

interface SnowflakeCiRow {
  schema: string;
  owner: string;
  comment: string | null;
}

async function ciRows(session: SnowflakeSession, database: string, like: string): Promise<SnowflakeCiRow[]> {
  const sql = listSql(database, like);
  return readRows(SHOW_SCHEMAS, sql, await session.query(sql))
    .filter((row) => textOf(row, "name").startsWith(PREFIX) && textOf(row, "database_name") === database)
    .map((row) => ({ schema: textOf(row, "name"), owner: textOf(row, "owner"), comment: textOf(row, "comment") || null }));
}

/** Every CI_ schema with what cleanup would do to it and why; changes nothing. */
export async function planSnowflakeCleanup(session: SnowflakeSession, database: string, olderThanSeconds: number): Promise<CleanupResult> {
  const [nowRows, rows] = await Promise.all([
    session.query(NOW_SQL).then((result) => readRows(NOW, NOW_SQL, result)),
    ciRows(session, database, `${PREFIX}%`),
  ]);
  const now = new Date(textOf(nowRows[0] ?? {}, "NOW"));
  const role = textOf(nowRows[0] ?? {}, "ROLE");
  if (Number.isNaN(now.getTime())) throw new Error(`${NOW_SQL}: returned no time`);
  return {
    dryRun: true,
    olderThanSeconds,
    now: now.toISOString(),
    schemas: rows.sort((a, b) => a.schema.localeCompare(b.schema)).map((row) => judgeCiSchema(row, now, olderThanSeconds, { creator: CREATOR, copyOwner: role })),
  };
}

/** Drops each stale schema after looking it up again; a failed drop is recorded and the rest go on. */
export async function cleanupSnowflakeCiSchemas(
  session: SnowflakeSession,
  database: string,
  options: { olderThanSeconds: number; dryRun: boolean; onDrop?: (verdict: CiSchemaVerdict) => void | Promise<void> },
): Promise<CleanupResult> {
  const plan = await planSnowflakeCleanup(session, database, options.olderThanSeconds);
  if (options.dryRun) return plan;
  for (const verdict of plan.schemas.filter((v) => v.action === "drop")) {
    try {
      const again = (await ciRows(session, database, verdict.schema)).find((row) => row.schema === verdict.schema);
      const marker = again && parseCreatedMarker(again.comment);
      if (again === undefined) {
        verdict.dropped = false;
        verdict.error = "already gone";
      } else if (again.owner !== verdict.owner || !(marker instanceof Date) || marker.toISOString() !== verdict.createdAt) {
        verdict.dropped = false;
        verdict.error = "changed since it was listed: left alone";
      } else {
        const sql = `DROP SCHEMA ${quoted(database, verdict.schema)} RESTRICT`;
        const status = textOf(readRows(DROPPED, sql, await session.query(sql))[0] ?? {}, "status");
        verdict.dropped = /successfully dropped/i.test(status);
        if (!verdict.dropped) verdict.error = status || "Snowflake did not say it was dropped";
      }
    } catch (error) {
      verdict.dropped = false;
      verdict.error = error instanceof Error ? error.message : String(error);
    }
    await options.onDrop?.(verdict);
  }
  return { ...plan, dryRun: false };
}
