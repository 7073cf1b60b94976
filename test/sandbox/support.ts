import * as fs from "node:fs";
import * as path from "node:path";
import type pg from "pg";
import { providerConnection, type ProviderConnection } from "../../infra/sandbox/setup";
import { REPO_ROOT, shippedSettings } from "../support/shipped";
import type { StackSettings } from "../../infra/stack";

// What the sandbox tests share: the shipped stack as the sandbox reads it, and what "nobody gained access" compares.

export const STACK_FILE = path.join(REPO_ROOT, "Pulumi.prod.yaml");
export const sandboxSettings = (): StackSettings => ({ ...shippedSettings(), platforms: ["postgres"] });
export const shippedProvider = (): ProviderConnection => providerConnection(STACK_FILE);

/** Every privilege each login role (not a superuser, not the provisioner: it runs pulumi up) holds on each schema and
 *  table: what "nobody gained access" compares. */
export async function privilegeSnapshot(client: pg.Client, provisioner = "provisioner"): Promise<Set<string>> {
  const result = await client.query<{ entry: string }>(`
    WITH logins AS (SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolname <> $1),
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
     WHERE c.relkind IN ('r', 'v', 'p') AND pg_has_role(l.rolname, c.relowner, 'USAGE')`, [provisioner]);
  return new Set(result.rows.map((r) => r.entry));
}

/** One developer, one domain, the prod account: the smallest roster the sandbox runs, so each start is quick. */
export const TINY_ROSTER_YAML = `domains:
  - name: sales
    description: Sales
developers:
  - name: alice
    email: alice@acme.example
service_accounts:
  - name: svc_prod
    purpose: prod
`;

/** Writes the tiny roster as team.yaml in `dir` and returns its path. */
export function writeTinyRoster(dir: string): string {
  const file = path.join(dir, "team.yaml");
  fs.writeFileSync(file, TINY_ROSTER_YAML);
  return file;
}
