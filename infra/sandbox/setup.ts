// A disposable warehouse: a throwaway PostgreSQL server with the program's PostgreSQL resources applied, throwaway
// passwords on the login roles, and a table in each schema created by whoever would create it in real life.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { parse as parseYaml } from "yaml";
import type { Boundary } from "../boundary/model";
import type { DeclaredResource } from "../platforms/declare";
import { ciSchemaName, PROD_WRITER } from "../roster/naming";
import { quoteIdentifier, type AppliedStatement } from "./apply";
import { CI_CREATE_SCHEMA } from "./attacks";
import { up, type StackState, type UpOptions, type UpResult, type StepResult } from "./engine";
import { PostgresProvider, PROVIDER_MAX_CONNECTIONS } from "./provider";
import { startThrowawayPostgres, type PostgresMajor, type ThrowawayPostgres } from "./server";

/** How the provider connects (`postgresql:*` in the stack file): the user that owns what it creates, and its database. */
export interface ProviderConnection {
  username: string;
  /** `postgresql:database`; the provider's default is "postgres". Roles are created and deleted over this database. */
  database: string;
  /** `postgresql:maxConnections`: the provider's pool per database (default 20). */
  maxConnections: number;
}

/** The provider settings of a Pulumi.<stack>.yaml, with the provider's defaults. */
export function providerConnection(stackFile: string): ProviderConnection {
  const document = parseYaml(readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null;
  const config = document?.config ?? {};
  const text = (key: string, fallback: string) => (typeof config[key] === "string" && config[key] !== "" ? (config[key] as string) : fallback);
  const maxConnections = config["postgresql:maxConnections"];
  return {
    username: text("postgresql:username", "postgres"), database: text("postgresql:database", "postgres"),
    maxConnections: typeof maxConnections === "number" && maxConnections > 0 ? maxConnections : PROVIDER_MAX_CONNECTIONS,
  };
}

/** A role that can log in to the sandbox, with its throwaway password. */
export interface SandboxLogin {
  /** The roster name, or PUBLIC for the probe role that holds nothing. */
  principal: string;
  login: string;
  password: string;
}

/** The role that stands for PUBLIC: it is granted nothing, so it can do exactly what PUBLIC can. */
export const PUBLIC_PROBE = "sandbox_public";
/** The table every attack aims at, one in each schema. */
export const FIXTURE_TABLE = "sample";
/** The run id of the CI schema the sandbox's CI login makes, as a CI job would. */
export const CI_RUN = "sandbox";

export interface Seeded {
  logins: SandboxLogin[];
  /** schema → the fixture table in it. */
  tables: Map<string, string>;
  /** The CI schema the CI login created, the role that owns it, and its comment (the creation marker). */
  ciSchema?: { name: string; owner: string; comment: string | null };
  /** Who the prod account's sessions act as, read from a real login (the assumed role). */
  prodSessionRole?: string;
}

/** A `pulumi up` in which some step failed, as the CLI reports it: what failed, and everything that ran. */
export class UpFailed extends Error {
  constructor(readonly result: UpResult) {
    const failed = result.steps.filter((s) => s.status === "failed");
    super(`pulumi up failed: ${failed.map((s) => `${s.operation} ${s.resource.name}: ${s.error}`).join("; ")}`);
    this.name = "UpFailed";
  }
  get failed(): StepResult[] {
    return this.result.steps.filter((s) => s.status === "failed");
  }
}

export interface SandboxUpOptions extends UpOptions {
  log?: (statement: AppliedStatement) => void;
  /** Return a failed run's result instead of throwing UpFailed. */
  allowFailure?: boolean;
  /** Another `postgresql:database` than the stack file's, for this run. */
  providerDatabase?: string;
}

export class Sandbox {
  /** The stack's state, as Pulumi keeps it between runs: what the provider stored after each operation. */
  readonly state: StackState = new Map();

  private constructor(
    readonly server: ThrowawayPostgres,
    /** The warehouse database (the stack's `database`). */
    readonly database: string,
    readonly provider: ProviderConnection,
    private readonly provisionerPassword: string,
    readonly major: PostgresMajor,
  ) {}

  /**
   * Starts a server on `major` with the provider's user made as the README asks of a managed database: a LOGIN
   * CREATEROLE role, not a superuser, that owns the warehouse database (and on 14 its `public` schema); nothing applied yet.
   */
  static async start(database: string, provider: ProviderConnection, log?: (line: string) => void, major?: PostgresMajor): Promise<Sandbox> {
    const server = await startThrowawayPostgres({ ...(log ? { log } : {}), ...(major ? { major } : {}) });
    try {
      if (provider.username === server.superuser)
        throw new Error(`postgresql:username is ${server.superuser}, the server's bootstrap superuser; the sandbox provisions as a non-superuser, as managed databases require: name the provisioner role instead`);
      const password = randomBytes(18).toString("hex");
      const admin = await server.client();
      let serverMajor: number;
      try {
        await admin.query(`CREATE ROLE ${quoteIdentifier(provider.username)} LOGIN CREATEROLE PASSWORD ${admin.escapeLiteral(password)}`);
        for (const name of new Set([database, provider.database]))
          if (name !== "postgres") await admin.query(`CREATE DATABASE ${quoteIdentifier(name)} OWNER ${quoteIdentifier(provider.username)}`);
        serverMajor = Math.floor(Number((await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v) / 10000);
        if (serverMajor < 15) {
          // PostgreSQL 14's `public` belongs to the bootstrap superuser; the README has the provisioner take it over.
          const publicOwner = await server.client(database);
          await publicOwner.query(`ALTER SCHEMA public OWNER TO ${quoteIdentifier(provider.username)}`).finally(() => publicOwner.end());
        }
      } finally {
        await admin.end();
      }
      return new Sandbox(server, database, provider, password, serverMajor as PostgresMajor);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /**
   * A role the managed platform has built in (RDS: rds_iam), made by its superuser. On 16+ granting a role takes ADMIN
   * on it, which the provisioner has only on roles it created: the platform's admin gives it, as the README asks.
   */
  async createPlatformRole(name: string): Promise<void> {
    const admin = await this.server.client();
    try {
      await admin.query(`CREATE ROLE ${quoteIdentifier(name)}`);
      const grant = this.major >= 16 ? "WITH ADMIN OPTION, INHERIT FALSE, SET FALSE" : "";
      if (this.major >= 16) await admin.query(`GRANT ${quoteIdentifier(name)} TO ${quoteIdentifier(this.provider.username)} ${grant}`);
    } finally {
      await admin.end();
    }
  }

  /** A new client logged in as `login` (the provider's user by default) to `database` (the warehouse by default). */
  async connect(as?: { user: string; password: string }, database = this.database): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.server.url(database, as ?? this.provisionerLogin) });
    client.on("error", () => undefined);
    await client.connect();
    return client;
  }

  private get provisionerLogin() {
    return { user: this.provider.username, password: this.provisionerPassword };
  }

  /** `pulumi up` of `resources` against this sandbox's stack state, through the provider stand-in, as the provisioner. */
  async up(resources: readonly DeclaredResource[], options: SandboxUpOptions = {}): Promise<UpResult> {
    const provider = new PostgresProvider({
      url: (database) => this.server.url(database, this.provisionerLogin),
      providerDatabase: options.providerDatabase ?? this.provider.database,
      username: this.provider.username,
      maxConnections: this.provider.maxConnections,
      ...(options.log ? { log: options.log } : {}),
    });
    try {
      const result = await up(resources, this.state, provider, options);
      if (!options.allowFailure && result.steps.some((s) => s.status === "failed")) throw new UpFailed(result);
      return result;
    } finally {
      await provider.close();
    }
  }

  /** Throwaway passwords for every login role, the PUBLIC probe, and a table in each schema made by its real creator. */
  async seed(boundary: Boundary): Promise<Seeded> {
    // Fixtures are not the provider's work: they are made by the server's superuser, or by the login that would make them.
    const admin = await this.server.client(this.database);
    const logins: SandboxLogin[] = [];
    const tables = new Map<string, string>();
    const seeded: Seeded = { logins, tables };
    try {
      for (const principal of boundary.principals) {
        const password = randomBytes(12).toString("hex");
        await admin.query(`ALTER ROLE ${quoteIdentifier(principal.logins.postgres)} PASSWORD ${admin.escapeLiteral(password)}`);
        logins.push({ principal: principal.name, login: principal.logins.postgres, password });
      }
      const probePassword = randomBytes(12).toString("hex");
      await admin.query(`CREATE ROLE ${quoteIdentifier(PUBLIC_PROBE)} LOGIN PASSWORD ${admin.escapeLiteral(probePassword)}`);
      logins.push({ principal: "PUBLIC", login: PUBLIC_PROBE, password: probePassword });

      const loginOf = (name: string) => logins.find((l) => l.principal === name)!;
      const createTable = async (client: pg.Client, schema: string, by: string) => {
        const table = `${quoteIdentifier(schema)}.${quoteIdentifier(FIXTURE_TABLE)}`;
        await client.query(`CREATE TABLE ${table} (id integer, note text)`);
        await client.query(`INSERT INTO ${table} VALUES (1, ${client.escapeLiteral(`made by ${by}`)})`);
        tables.set(schema, FIXTURE_TABLE);
      };

      // Prod tables come from a real login of the prod account, after provisioning: its assumed role makes them the writer's.
      const prodSchemas = boundary.schemas.filter((s) => s.kind === "prod");
      const prodAccount = boundary.principals.find((p) => p.purpose === "prod");
      if (prodAccount) {
        const client = await this.connect({ user: prodAccount.logins.postgres, password: loginOf(prodAccount.name).password });
        try {
          seeded.prodSessionRole = (await client.query<{ role: string }>("SELECT current_user AS role")).rows[0]!.role;
          for (const schema of prodSchemas) await createTable(client, schema.name, prodAccount.logins.postgres);
        } finally {
          await client.end();
        }
      } else {
        // No prod account in the roster: the writer role itself makes them.
        await admin.query(`SET ROLE ${quoteIdentifier(PROD_WRITER)}`);
        for (const schema of prodSchemas) await createTable(admin, schema.name, PROD_WRITER);
        await admin.query("RESET ROLE");
      }

      for (const developer of boundary.principals.filter((p) => p.kind === "developer")) {
        const own = boundary.schemas.filter((s) => s.kind === "developer" && s.developer === developer.name);
        if (own.length === 0) continue;
        const client = await this.connect({ user: developer.logins.postgres, password: loginOf(developer.name).password });
        try {
          for (const schema of own) await createTable(client, schema.name, developer.logins.postgres);
        } finally {
          await client.end();
        }
      }

      // CI builds into a schema it creates at run time, through the only door it has (ci.create_schema); it is attacked like the others.
      const ciAccount = boundary.principals.find((p) => p.purpose === "ci");
      // An unrestricted domain where there is one: a CI copy of restricted data is for CI accounts the roster lists as readers.
      const domain = (prodSchemas.find((s) => !s.restricted) ?? prodSchemas[0])?.domain;
      if (ciAccount && domain) {
        const client = await this.connect({ user: ciAccount.logins.postgres, password: loginOf(ciAccount.name).password });
        try {
          const made = await client.query<{ name: string }>(`SELECT ${CI_CREATE_SCHEMA}($1, $2) AS name`, [CI_RUN, domain]);
          const name = made.rows[0]!.name;
          if (name !== ciSchemaName(CI_RUN, domain)) throw new Error(`${CI_CREATE_SCHEMA}(${CI_RUN}, ${domain}) made ${name}, not ${ciSchemaName(CI_RUN, domain)}`);
          await createTable(client, name, ciAccount.logins.postgres);
          const found = await client.query<{ owner: string; comment: string | null }>(
            "SELECT nspowner::regrole::text AS owner, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1",
            [name],
          );
          seeded.ciSchema = { name, owner: found.rows[0]!.owner, comment: found.rows[0]!.comment };
        } finally {
          await client.end();
        }
      }
      return seeded;
    } finally {
      await admin.end();
    }
  }

  /** A new client logged in to the warehouse database as a sandbox login, with its password. */
  connectAs(login: SandboxLogin): Promise<pg.Client> {
    return this.connect({ user: login.login, password: login.password });
  }

  /** Logs in for real as one of the seeded logins, by its role name. */
  sessionsFor(seeded: Seeded): (login: string) => Promise<pg.Client> {
    return (login) => {
      const found = seeded.logins.find((l) => l.login === login);
      if (found === undefined) throw new Error(`no sandbox login ${login}`);
      return this.connectAs(found);
    };
  }

  /** `postgresql://login:password@127.0.0.1:PORT/database` for a sandbox login. */
  url(login: SandboxLogin): string {
    return this.server.url(this.database, { user: login.login, password: login.password });
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

