import pg from "pg";
import { parse, toClientConfig } from "pg-connection-string";

// Connection strings carry passwords. A live command parses its --live URL once, with the parser pg itself uses
// (pg-connection-string), and prints only what that parse found: the password never, and never a piece of raw text.

const MASK = "***";
/** Redaction is a second line of defence; shorter forms would garble ordinary words, and no part of a URL is echoed anyway. */
const MIN_SECRET_LENGTH = 3;
const CONNECT_TIMEOUT_MS = 15_000;
const EXAMPLE = "postgres://user@host:5432/database";
const ENCODE_HINT = "percent-encode @ / ? # in a password (%40 %2F %3F %23), or leave the password out of the URL and set PGPASSWORD";

/** Thrown for anything that goes wrong with a live connection, in words, with no secret in the message. */
export class LiveConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LiveConnectionError";
  }
}

/** A --live URL as pg will use it: the client settings, how it may be shown, and every form its password could take. */
export interface LiveTarget {
  config: pg.ClientConfig;
  /** postgres://user:***@host:port/database, built from the parsed parts. */
  shown: string;
  user: string | undefined;
  host: string;
  port: number;
}

/**
 * Parses a connection string, refusing what would make a password look like a host or a path: in a URL the user part
 * ends at the first / ? or #, so `postgres://u:p/w@host` would be read as host "p" (and looked up in DNS).
 */
export function parseLiveUrl(url: string, flag = "--live"): LiveTarget {
  if (url.trim() === "") throw new LiveConnectionError(`${flag} needs a connection string, such as ${EXAMPLE}`);
  const scheme = /^(postgres|postgresql):\/\//i.exec(url);
  if (scheme === null) throw new LiveConnectionError(`${flag} takes a URL that starts with postgres:// or postgresql://, such as ${EXAMPLE}`);
  const rest = url.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const afterAuthority = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  if (afterAuthority.includes("@"))
    throw new LiveConnectionError(`${flag}: the connection string has an @ after its host, so its password cannot be told apart from the host: ${ENCODE_HINT}`);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const userInfo = authority.includes("@") ? authority.slice(0, authority.lastIndexOf("@")) : undefined;
  const portText = /:([^:\]]*)$/.exec(authority.slice(authority.lastIndexOf("@") + 1))?.[1];
  if (portText !== undefined && portText !== "" && !(/^\d+$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535))
    throw new LiveConnectionError(`${flag}: the port must be a number from 1 to 65535`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(url);
  } catch {
    throw new LiveConnectionError(`${flag}: the connection string is not a valid URL (${EXAMPLE}); ${ENCODE_HINT}`);
  }
  const host = parsed.host ?? "";
  if (host === "") throw new LiveConnectionError(`${flag}: the connection string names no host: write ${EXAMPLE}`);
  const port = parsed.port ? Number(parsed.port) : 5432;
  const user = parsed.user === "" ? undefined : parsed.user;
  const userShown = user === undefined ? "" : `${encodeURIComponent(user)}${userInfo?.includes(":") ? `:${MASK}` : ""}@`;
  const hostShown = `${host.includes(":") ? `[${host}]` : host}${parsed.port ? `:${port}` : ""}`;
  const query = new URLSearchParams(afterAuthority.includes("?") ? afterAuthority.slice(afterAuthority.indexOf("?") + 1).split("#")[0] : "");
  if (query.has("password")) query.set("password", MASK);
  const queryShown = [...query].map(([key, value]) => `${encodeURIComponent(key)}=${value === MASK ? MASK : encodeURIComponent(value)}`).join("&");
  const database = parsed.database ? `/${encodeURIComponent(parsed.database)}` : "";
  return {
    config: { ...toClientConfig(parsed), connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
    shown: `${scheme[1]!.toLowerCase()}://${userShown}${hostShown}${database}${queryShown === "" ? "" : `?${queryShown}`}`,
    user,
    host,
    port,
  };
}

/** The connection string as it can be shown, or a placeholder when it cannot be parsed (its text is never echoed). */
export function maskConnectionString(url: string): string {
  try {
    return parseLiveUrl(url).shown;
  } catch {
    return "the given connection string";
  }
}

/** `text` with every form the connection string's password (or PGPASSWORD) could take replaced by ***. */
export function redactSecrets(text: string, url: string): string {
  let redacted = text;
  for (const secret of secretForms(url)) if (secret.length >= MIN_SECRET_LENGTH) redacted = redacted.split(secret).join(MASK);
  return redacted;
}

/** The password as pg parsed it, as written (up to the last @, which is what the writer may have meant), decoded and encoded. */
function secretForms(url: string): string[] {
  const forms = new Set<string>();
  const add = (value: string | undefined) => {
    if (value === undefined || value === "") return;
    forms.add(value);
    forms.add(encodeURIComponent(value));
    try {
      forms.add(decodeURIComponent(value));
    } catch {
      // Not valid percent-encoding: the forms already added are the ones that could appear.
    }
  };
  const written = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:(.*)@/is.exec(url)?.[1];
  add(written);
  add(/[?&]password=([^&#]*)/i.exec(url)?.[1]);
  try {
    add(parse(url).password);
  } catch {
    // Unparseable: the written forms above are all there is.
  }
  add(process.env.PGPASSWORD);
  // Longest first, so a password containing another form is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** What went wrong, in words a user can act on; the server's own messages are kept, the client library's jargon is not. */
function describe(error: unknown, target: LiveTarget): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const where = `${target.host}:${target.port}`;
  // pg's words when the server asks for a password and neither the URL, PGPASSWORD nor ~/.pgpass gave one.
  if (/client password must be a string/.test(error.message))
    return `the server asks for a password for user ${target.user ?? "(default)"} and none was given: set PGPASSWORD, add it to ~/.pgpass, or put it percent-encoded in the URL`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve host ${target.host}: check the host name in the connection string`;
  if (code === "ECONNREFUSED") return `nothing accepts connections at ${where}: check the host and port, and that the server is running`;
  if (code === "ETIMEDOUT" || /timeout expired|Connection terminated due to connection timeout/i.test(error.message))
    return `no answer from ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: check the host, port and firewall`;
  return typeof code === "string" && code !== "" ? `${error.message} (${code})` : error.message;
}

/** A connected client for a live command, named in pg_stat_activity; every error is a LiveConnectionError in words. */
export async function connectLive(url: string, applicationName: string): Promise<pg.Client> {
  const target = parseLiveUrl(url);
  const client = new pg.Client({ ...target.config, application_name: applicationName });
  // An idle client whose server goes away emits 'error'; the command's own query reports the failure instead.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new LiveConnectionError(`cannot connect to ${target.shown}: ${redactSecrets(describe(error, target), url)}`);
  }
  return client;
}

/** Any error from a live command as one safe line. */
export function safeMessage(error: unknown, url: string): string {
  if (error instanceof LiveConnectionError) return redactSecrets(error.message, url);
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  return redactSecrets(typeof code === "string" && code !== "" ? `${message} (${code})` : message, url);
}
