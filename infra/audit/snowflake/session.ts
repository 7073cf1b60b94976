import { readFileSync } from "node:fs";
import type * as snowflake from "snowflake-sdk";

// A Snowflake session for live commands, over snowflake-sdk's Connection.execute (its callback API, which is also what
// the tests' fake connection implements). Key-pair auth only, from the same variables the Pulumi provider reads; the
// private key and its passphrase never reach a message.

/** A result set as snowflake-sdk gives it: column metadata (getName/getType) and rows keyed by column name. */
export interface ResultSet {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

export interface SnowflakeSession {
  query(sqlText: string): Promise<ResultSet>;
  close(): Promise<void>;
}

/** The part of snowflake-sdk's Connection a session uses. */
export type ExecutingConnection = Pick<snowflake.Connection, "execute" | "destroy">;

/** Thrown for anything that goes wrong talking to Snowflake, with every secret already removed from the message. */
export class SnowflakeConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnowflakeConnectionError";
  }
}

/** A session over a connected snowflake-sdk Connection (or anything with its execute/destroy). */
export function sessionOf(connection: ExecutingConnection, redact: (text: string) => string = (t) => t): SnowflakeSession {
  return {
    query: (sqlText) =>
      new Promise((resolve, reject) => {
        connection.execute({
          sqlText,
          complete: (error, statement, rows) => {
            if (error) return reject(new SnowflakeConnectionError(redact(error.message)));
            const columns = ((statement as snowflake.RowStatement).getColumns() ?? []).map((c) => ({ name: c.getName(), type: c.getType() }));
            resolve({ columns, rows: (rows ?? []) as Record<string, unknown>[] });
          },
        });
      }),
    close: () => new Promise((resolve) => connection.destroy(() => resolve())),
  };
}

/** Where and as whom to connect: the provider's own variables (SNOWFLAKE_*), falling back to the stack's snowflake:* keys. */
export interface SnowflakeTarget {
  account: string;
  user: string;
  role?: string;
  warehouse?: string;
}

const ENV_OR_CONFIG: Record<keyof SnowflakeTarget | "organizationName" | "accountName", [string, string]> = {
  account: ["SNOWFLAKE_ACCOUNT", "snowflake:account"],
  organizationName: ["SNOWFLAKE_ORGANIZATION_NAME", "snowflake:organizationName"],
  accountName: ["SNOWFLAKE_ACCOUNT_NAME", "snowflake:accountName"],
  user: ["SNOWFLAKE_USER", "snowflake:user"],
  role: ["SNOWFLAKE_ROLE", "snowflake:role"],
  warehouse: ["SNOWFLAKE_WAREHOUSE", "snowflake:warehouse"],
};

/** The target from the environment and the stack config; a one-line error naming what is missing. */
export function snowflakeTarget(env: NodeJS.ProcessEnv, config: Record<string, unknown>): SnowflakeTarget {
  const value = (key: keyof typeof ENV_OR_CONFIG): string | undefined => {
    const [variable, configKey] = ENV_OR_CONFIG[key];
    const found = env[variable] ?? config[configKey];
    return typeof found === "string" && found !== "" ? found : undefined;
  };
  const org = value("organizationName");
  const name = value("accountName");
  const account = value("account") ?? (org && name ? `${org}-${name}` : undefined);
  const user = value("user");
  if (account === undefined)
    throw new SnowflakeConnectionError("no Snowflake account: set snowflake:organizationName and snowflake:accountName in the stack config, or SNOWFLAKE_ACCOUNT=ORG-ACCOUNT");
  if (user === undefined) throw new SnowflakeConnectionError("no Snowflake user: set snowflake:user in the stack config, or SNOWFLAKE_USER");
  const role = value("role");
  const warehouse = value("warehouse");
  return { account, user, ...(role ? { role } : {}), ...(warehouse ? { warehouse } : {}) };
}

interface KeyPair {
  privateKey: string;
  passphrase?: string;
}

/** The private key from SNOWFLAKE_PRIVATE_KEY (PEM text) or SNOWFLAKE_PRIVATE_KEY_PATH, as `pulumi up` takes it. */
function keyPair(env: NodeJS.ProcessEnv): KeyPair {
  const passphrase = env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE || undefined;
  let privateKey = env.SNOWFLAKE_PRIVATE_KEY || undefined;
  const path = env.SNOWFLAKE_PRIVATE_KEY_PATH || undefined;
  if (privateKey === undefined && path !== undefined) {
    try {
      privateKey = readFileSync(path, "utf8");
    } catch (error) {
      throw new SnowflakeConnectionError(`cannot read SNOWFLAKE_PRIVATE_KEY_PATH ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  if (privateKey === undefined)
    throw new SnowflakeConnectionError("no private key: set SNOWFLAKE_PRIVATE_KEY (PEM) or SNOWFLAKE_PRIVATE_KEY_PATH, and SNOWFLAKE_PRIVATE_KEY_PASSPHRASE if it is encrypted");
  return { privateKey, ...(passphrase ? { passphrase } : {}) };
}

/** `text` with the key, each of its lines, and the passphrase replaced by ***. */
export function redactKey(text: string, key: KeyPair): string {
  const secrets = [key.privateKey, ...key.privateKey.split(/\r?\n/).filter((line) => line.length >= 16 && !line.startsWith("-----")), key.passphrase]
    .filter((s): s is string => s !== undefined && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((out, secret) => out.split(secret).join("***"), text);
}

/** A connected session (key-pair JWT auth); snowflake-sdk is loaded only here, so offline commands never pay for it. */
export async function connectSnowflake(target: SnowflakeTarget, env: NodeJS.ProcessEnv, application: string): Promise<SnowflakeSession> {
  const key = keyPair(env);
  const redact = (text: string) => redactKey(text, key);
  const sdk = await import("snowflake-sdk");
  // The driver's own log would go to a file in the working directory; our messages say what failed.
  sdk.configure({ logLevel: "OFF" });
  const connection = sdk.createConnection({
    account: target.account,
    username: target.user,
    authenticator: "SNOWFLAKE_JWT",
    privateKey: key.privateKey,
    ...(key.passphrase ? { privateKeyPass: key.passphrase } : {}),
    ...(target.role ? { role: target.role } : {}),
    ...(target.warehouse ? { warehouse: target.warehouse } : {}),
    application,
    timeout: 60_000,
  });
  try {
    await connection.connectAsync();
  } catch (error) {
    throw new SnowflakeConnectionError(`cannot connect to Snowflake account ${target.account} as ${target.user}: ${redact(error instanceof Error ? error.message : String(error))}`);
  }
  return sessionOf(connection, redact);
}
