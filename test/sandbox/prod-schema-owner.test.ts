import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startThrowawayPostgres, type PostgresMajor, type ThrowawayPostgres } from "../../infra/sandbox/server";

// Why prod_writer owns the prod schemas, tried as production runs: a CREATEROLE provisioner that is no superuser, owns
// the database and created the roles. The provider's Grant revokes inside withRolesGranted(getRolesToGrant): the
// schema's owner plus the owners of pg_tables rows, never of views. And what moving an existing stack's prod schemas to
// prod_writer takes: the provider's in-place owner update (setSchemaOwner) runs without a self-grant.

const PASSWORD = "throwaway-test-password";

for (const major of [15, 18] as PostgresMajor[]) {
  describe(`prod schema ownership for a CREATEROLE provisioner on PostgreSQL ${major}`, () => {
    let server: ThrowawayPostgres;
    let admin: pg.Client;
    let provisioner: pg.Client;
    const login = async (user: string) => {
      const client = new pg.Client({ connectionString: server.url("analytics", { user, password: PASSWORD }) });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    };
    const memberships = async () =>
      (await admin.query<{ row: string }>("SELECT roleid::regrole::text || ' ' || (to_jsonb(m) - 'oid' - 'roleid' - 'member')::text AS row FROM pg_auth_members m WHERE member = 'provisioner'::regrole ORDER BY 1")).rows.map((r) => r.row);
    /** What the provider's Grant delete does for prod_reader on the schema's tables: self-grant the owners it finds, REVOKE, revoke the self-grants. */
    const revokeReaderTables = async (schema: string): Promise<string> => {
      const owners = (await provisioner.query<{ owner: string }>(
        `SELECT DISTINCT owner FROM (SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1
           UNION SELECT tableowner FROM pg_tables WHERE schemaname = $1) o WHERE owner <> current_user`, [schema])).rows.map((r) => r.owner);
      const warnings: string[] = [];
      const onNotice = (n: { message?: string }) => warnings.push(n.message ?? "");
      provisioner.on("notice", onNotice);
      await provisioner.query("BEGIN");
      try {
        for (const owner of owners) await provisioner.query(`GRANT ${owner} TO provisioner`);
        await provisioner.query(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${schema} FROM prod_reader`);
        for (const owner of owners) await provisioner.query(`REVOKE ${owner} FROM provisioner`);
        await provisioner.query("COMMIT");
        return warnings.length === 0 ? "revoked" : `warned: ${warnings.join("; ")}`;
      } catch (error) {
        await provisioner.query("ROLLBACK");
        return (error as Error).message;
      } finally {
        provisioner.off("notice", onNotice);
      }
    };

    beforeAll(async () => {
      server = await startThrowawayPostgres({ major });
      const root = await server.client();
      try {
        await root.query(`CREATE ROLE provisioner LOGIN CREATEROLE NOSUPERUSER PASSWORD '${PASSWORD}'`);
        await root.query("CREATE DATABASE analytics OWNER provisioner");
      } finally {
        await root.end();
      }
      admin = await server.client("analytics");
      provisioner = await login("provisioner");
      // The old layout (schema the provisioner's) and the new one (prod_writer's), each holding only a view the prod account made.
      await provisioner.query(`
        CREATE ROLE prod_writer NOLOGIN; CREATE ROLE prod_reader NOLOGIN;
        CREATE ROLE svc_prod LOGIN PASSWORD '${PASSWORD}' IN ROLE prod_writer; ALTER ROLE svc_prod SET ROLE TO prod_writer;
        CREATE SCHEMA prod_old; GRANT USAGE, CREATE ON SCHEMA prod_old TO prod_writer; GRANT USAGE ON SCHEMA prod_old TO prod_reader;`);
      // The provider's schema create and grants, each inside its self-grant of the owner.
      await provisioner.query("GRANT prod_writer TO provisioner; CREATE SCHEMA prod_new AUTHORIZATION prod_writer; GRANT USAGE ON SCHEMA prod_new TO prod_reader; REVOKE prod_writer FROM provisioner");
      const prod = await login("svc_prod");
      try {
        for (const schema of ["prod_old", "prod_new"])
          await prod.query(`CREATE VIEW ${schema}.v AS SELECT 1 AS n; GRANT SELECT ON ${schema}.v TO prod_reader`);
      } finally {
        await prod.end();
      }
    }, 120_000);

    afterAll(async () => {
      await provisioner?.end();
      await admin?.end();
      await server?.stop();
    });

    const readerSees = async (schema: string) =>
      (await admin.query<{ ok: boolean }>(`SELECT has_table_privilege('prod_reader', '${schema}.v', 'SELECT') AS ok`)).rows[0]!.ok;

    it("revokes a reader's SELECT on the writer's views only when the writer owns the schema", async () => {
      const before = await memberships();
      expect(await revokeReaderTables("prod_new")).toBe("revoked");
      expect(await readerSees("prod_new")).toBe(false);
      // With the provisioner owning the schema, nobody owns a pg_tables row, so the provider self-grants nothing.
      expect(await revokeReaderTables("prod_old")).toBe("permission denied for table v");
      expect(await readerSees("prod_old")).toBe(true);
      expect(await memberships()).toEqual(before);
    });

    it("cannot move an existing prod schema to prod_writer by the provider's in-place update, but can by hand, and the update then does nothing", async () => {
      await admin.query("CREATE SCHEMA prod_moved AUTHORIZATION provisioner");
      const before = await memberships();
      const update = "ALTER SCHEMA prod_moved OWNER TO prod_writer";
      await expect(provisioner.query(update)).rejects.toThrow(major >= 16 ? 'must be able to SET ROLE "prod_writer"' : 'must be member of role "prod_writer"');
      // The README's one-off step, as the provisioner (16+: its ADMIN on the roles it created; before: CREATEROLE).
      await provisioner.query(`BEGIN; GRANT prod_writer TO CURRENT_USER; ${update}; REVOKE prod_writer FROM CURRENT_USER; COMMIT`);
      expect((await admin.query("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'prod_moved'")).rows).toEqual([{ owner: "prod_writer" }]);
      await provisioner.query(update);
      expect(await memberships()).toEqual(before);
    });
  });
}
