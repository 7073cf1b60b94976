import * as path from "node:path";
import type pg from "pg";
import type { Attempt } from "../../infra/sandbox/attacks";
import { providerConnection, type ProviderConnection } from "../../infra/sandbox/setup";
import { REPO_ROOT, shippedSettings } from "../support/shipped";
import type { StackSettings } from "../../infra/stack";

// What the sandbox tests share: the shipped stack as the sandbox reads it, and the holes the real server shows today.

export const STACK_FILE = path.join(REPO_ROOT, "Pulumi.prod.yaml");
export const sandboxSettings = (): StackSettings => ({ ...shippedSettings(), platforms: ["postgres"] });
export const shippedProvider = (): ProviderConnection => providerConnection(STACK_FILE);

/**
 * Attempts that succeed on a real server although the boundary forbids them: bugs in infra/platforms/postgres/index.ts,
 * reported to its owner. ci_builder's CREATE on the database lets the CI login create a prod_ schema, or rename its own
 * CI schema into one (and so own a prod_ schema: D1). Fix: an event trigger that refuses, for members of ci_builder,
 * CREATE SCHEMA and ALTER SCHEMA to any name outside the ci_ prefix (verified in the sandbox: zero unexpected outcomes).
 * The tests require exactly this list, so fixing the component makes them fail until its entry is deleted here.
 */
export const KNOWN_HOLES: readonly Pick<Attempt, "principal" | "target" | "action">[] = [
  { principal: "svc_ci", target: "ci_sandbox_finance", action: "rename_schema" },
  { principal: "svc_ci", target: "(database)", action: "create_prod_schema" },
];

export const holes = (unexpected: readonly Attempt[]) =>
  unexpected.map(({ principal, target, action, expected, actual }) => ({ principal, target, action, expected, actual }));
export const knownHoles = () => KNOWN_HOLES.map((h) => ({ ...h, expected: "denied", actual: "allowed" }));

/** Every privilege each login role (not a superuser) holds on each schema and table: what "nobody gained access" compares. */
export async function privilegeSnapshot(client: pg.Client): Promise<Set<string>> {
  const result = await client.query<{ entry: string }>(`
    WITH logins AS (SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper),
         schemas AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema')
    SELECT l.rolname || '|' || s.nspname || '|' || p.priv AS entry
      FROM logins l CROSS JOIN schemas s CROSS JOIN (VALUES ('USAGE'), ('CREATE')) p(priv)
     WHERE has_schema_privilege(l.rolname, s.oid, p.priv)
    UNION ALL
    SELECT l.rolname || '|' || s.nspname || '.' || c.relname || '|' || p.priv
      FROM logins l CROSS JOIN pg_class c JOIN schemas s ON s.oid = c.relnamespace
      CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('TRIGGER')) p(priv)
     WHERE c.relkind IN ('r', 'v', 'p') AND has_table_privilege(l.rolname, c.oid, p.priv)
    UNION ALL
    SELECT l.rolname || '|' || s.nspname || '.' || c.relname || '|OWNER'
      FROM logins l CROSS JOIN pg_class c JOIN schemas s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'v', 'p') AND pg_has_role(l.rolname, c.relowner, 'USAGE')`);
  return new Set(result.rows.map((r) => r.entry));
}
