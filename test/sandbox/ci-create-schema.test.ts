import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresResources } from "../../infra/platforms/postgres";
import { startThrowawayPostgres, type PostgresMajor, type ThrowawayPostgres } from "../../infra/sandbox/server";
import { shippedBoundary, shippedSettings } from "../support/shipped";

// ci.create_schema as production runs it: owned by a provisioner that is no superuser, only CREATEROLE, owner of the
// database and creator of ci_builder (as the README requires), with no standing membership in ci_builder. The function
// grants itself ci_builder around CREATE SCHEMA … AUTHORIZATION and revokes exactly that grant, one call at a time.
// Set up by hand here (the superuser makes the provisioner, the provisioner makes the rest), on real 15 and 18.

const declared = postgresResources(shippedBoundary(), shippedSettings()).find((r) => r.name === "ci.create_schema")!;
const body = declared.inputs.body as string;
const PASSWORD = "throwaway-test-password";

interface World {
  server: ThrowawayPostgres;
  login(user: string): Promise<pg.Client>;
}

/** The provisioner's memberships, every column of pg_auth_members (16+: grantor, admin, inherit and set options). */
async function memberships(client: pg.Client): Promise<string[]> {
  const rows = await client.query<{ row: string }>(
    `SELECT pg_get_userbyid(m.roleid) || ' ' || (to_jsonb(m) - 'oid' - 'roleid' - 'member')::text AS row
       FROM pg_auth_members m WHERE m.member = 'provisioner'::regrole ORDER BY 1`,
  );
  return rows.rows.map((r) => r.row);
}

for (const major of [15, 18] as PostgresMajor[]) {
  describe(`ci.create_schema owned by a CREATEROLE provisioner on PostgreSQL ${major}`, () => {
    const w = {} as World;
    let admin: pg.Client;
    let provisioner: pg.Client;
    let before: string[];

    beforeAll(async () => {
      w.server = await startThrowawayPostgres({ major });
      w.login = async (user) => {
        const client = new pg.Client({ connectionString: w.server.url("analytics", { user, password: PASSWORD }) });
        client.on("error", () => undefined);
        await client.connect();
        return client;
      };
      const root = await w.server.client();
      try {
        await root.query(`CREATE ROLE provisioner LOGIN CREATEROLE NOSUPERUSER PASSWORD '${PASSWORD}'`);
        await root.query("CREATE DATABASE analytics OWNER provisioner");
      } finally {
        await root.end();
      }
      admin = await w.server.client("analytics");
      provisioner = await w.login("provisioner");
      await provisioner.query(`
        CREATE ROLE ci_builder NOLOGIN;
        CREATE ROLE svc_ci LOGIN PASSWORD '${PASSWORD}' IN ROLE ci_builder;
        ALTER ROLE svc_ci SET search_path TO pg_catalog;
        ALTER ROLE svc_ci SET ROLE TO ci_builder;
        CREATE SCHEMA prod_sales;
        CREATE SCHEMA ci;
        GRANT USAGE ON SCHEMA ci TO ci_builder;
        CREATE FUNCTION ci.create_schema(run text, domain text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
          AS $function$${body}$function$;
        REVOKE ALL ON FUNCTION ci.create_schema(text, text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION ci.create_schema(text, text) TO ci_builder;`);
      before = await memberships(admin);
    }, 120_000);

    afterAll(async () => {
      await provisioner?.end();
      await admin?.end();
      await w.server?.stop();
    });

    const ownerOf = async (schema: string) =>
      (await admin.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1", [schema])).rows[0]?.owner;

    it("runs as a provisioner that is no superuser and holds ci_builder by no usable membership", async () => {
      const self = await admin.query<{ su: boolean; cr: boolean; db: string; member: boolean }>(`
        SELECT rolsuper AS su, rolcreaterole AS cr, (SELECT datdba::regrole::text FROM pg_database WHERE datname = 'analytics') AS db,
               pg_has_role('provisioner', 'ci_builder', $1) AS member FROM pg_roles WHERE rolname = 'provisioner'`, [major >= 16 ? "SET" : "MEMBER"]);
      expect(self.rows).toEqual([{ su: false, cr: true, db: "provisioner", member: false }]);
      // 16+ made the provisioner an ADMIN member (no SET) of the roles it created; 15 made it none.
      expect(before).toEqual(major >= 16 ? [expect.stringMatching(/^ci_builder .*"set_option": false, "admin_option": true/), expect.stringMatching(/^svc_ci .*"admin_option": true/)] : []);
    });

    it("lets the CI login call it twice in a row: the same schema, owned by ci_builder, and the provisioner's memberships as before", async () => {
      const ci = await w.login("svc_ci");
      try {
        expect((await ci.query("SELECT ci.create_schema('first', 'sales') AS name")).rows).toEqual([{ name: "ci_first_sales" }]);
        expect((await ci.query("SELECT ci.create_schema('first', 'sales') AS name")).rows).toEqual([{ name: "ci_first_sales" }]);
        expect((await ci.query("SELECT ci.create_schema('second', 'sales') AS name")).rows).toEqual([{ name: "ci_second_sales" }]);
      } finally {
        await ci.end();
      }
      expect(await ownerOf("ci_first_sales")).toBe("ci_builder");
      expect(await ownerOf("ci_second_sales")).toBe("ci_builder");
      expect(await memberships(admin)).toEqual(before);
    });

    it("refuses a run id with an underscore, which would give two runs one schema: run 42_eu's sales and run 42's eu_sales", async () => {
      await provisioner.query("CREATE SCHEMA prod_eu_sales");
      const ci = await w.login("svc_ci");
      try {
        expect((await ci.query("SELECT ci.create_schema('42', 'eu_sales') AS name")).rows).toEqual([{ name: "ci_42_eu_sales" }]);
        await expect(ci.query("SELECT ci.create_schema('42_eu', 'sales')"))
          .rejects.toThrow("CI schemas are ci_<run>_<domain>, the run in lowercase letters and digits, the domain in lowercase letters, digits and _, at most 63 bytes: not ci_42_eu_sales");
      } finally {
        await ci.end();
        await provisioner.query("DROP SCHEMA prod_eu_sales");
      }
    });

    it("serializes concurrent calls: the second waits on the advisory lock until the first commits, then both succeed", async () => {
      const [first, second] = [await w.login("svc_ci"), await w.login("svc_ci")];
      try {
        await first.query("BEGIN");
        await first.query("SELECT ci.create_schema('held', 'sales')");
        const waiting = second.query<{ name: string }>("SELECT ci.create_schema('waiter', 'sales') AS name");
        // The second session is blocked on the function's two-int4 advisory lock, not on a catalog row.
        let blocked: { objsubid: number }[] = [];
        for (let i = 0; i < 100 && blocked.length === 0; i++) {
          blocked = (await admin.query<{ objsubid: number }>("SELECT objsubid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows;
          if (blocked.length === 0) await new Promise((r) => setTimeout(r, 50));
        }
        expect(blocked).toEqual([{ objsubid: 2 }]);
        await first.query("COMMIT");
        expect((await waiting).rows).toEqual([{ name: "ci_waiter_sales" }]);
      } finally {
        await Promise.all([first.end(), second.end()]);
      }
      expect(await ownerOf("ci_held_sales")).toBe("ci_builder");
      expect(await memberships(admin)).toEqual(before);
    });

    it("gives two CI jobs calling at once, ten times over, each its schema, and leaves the memberships as they were", async () => {
      const jobs = await Promise.all(Array.from({ length: 4 }, () => w.login("svc_ci")));
      try {
        for (let round = 0; round < 10; round++) {
          const made = await Promise.all(jobs.map((job, i) => job.query<{ name: string }>(`SELECT ci.create_schema('r${round}j${i % 2}', 'sales') AS name`)));
          expect(made.map((m) => m.rows[0]!.name)).toEqual([0, 1, 0, 1].map((j) => `ci_r${round}j${j}_sales`));
        }
      } finally {
        await Promise.all(jobs.map((job) => job.end()));
      }
      const owners = await admin.query<{ owner: string; n: string }>("SELECT nspowner::regrole::text AS owner, count(*) AS n FROM pg_namespace WHERE nspname ~ '^ci_r' GROUP BY 1");
      expect(owners.rows).toEqual([{ owner: "ci_builder", n: "20" }]);
      expect(await memberships(admin)).toEqual(before);
    });
  });
}
