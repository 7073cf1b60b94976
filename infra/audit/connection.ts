import pg from "pg";

// Connection strings carry passwords: every message that leaves a live command goes through these first.

const MASK = "***";
/** A password this short would garble ordinary words if replaced everywhere; the URL patterns below still hide it. */
const MIN_SECRET_LENGTH = 4;

/** The connection string as it can be shown: the password, if any, replaced by ***. */
export function maskConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = MASK;
    return redactUrlShapes(parsed.toString().replace(`:${encodeURIComponent(MASK)}@`, `:${MASK}@`));
  } catch {
    return redactUrlShapes(url);
  }
}

/** `text` with every form of the connection string's password removed: raw, percent-encoded and decoded. */
export function redactSecrets(text: string, url: string): string {
  let redacted = text;
  for (const secret of passwordForms(url))
    if (secret.length >= MIN_SECRET_LENGTH) redacted = redacted.split(secret).join(MASK);
  return redactUrlShapes(redacted.split(url).join(maskConnectionString(url)));
}

function passwordForms(url: string): string[] {
  const forms = new Set<string>();
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(url)?.[1];
  if (raw !== undefined) {
    forms.add(raw);
    try {
      forms.add(decodeURIComponent(raw));
    } catch {
      // Not valid percent-encoding: the raw form is the only one pg could have seen.
    }
  }
  // pg also takes the password as a query parameter.
  const query = /[?&]password=([^&#]*)/i.exec(url)?.[1];
  if (query !== undefined) {
    forms.add(query);
    try {
      forms.add(decodeURIComponent(query));
    } catch {
      // As above.
    }
  }
  if (process.env.PGPASSWORD) forms.add(process.env.PGPASSWORD);
  // Longest first, so a password containing another form is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** user:password@ in any URL-shaped text, and password=... as a query parameter or in keyword/value form. */
const redactUrlShapes = (text: string): string =>
  text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, `$1${MASK}@`).replace(/(password\s*=\s*)('[^']*'|[^\s&#]+)/gi, `$1${MASK}`);

/** Thrown for anything that goes wrong talking to the server, with the password already removed from the message. */
export class LiveConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LiveConnectionError";
  }
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code !== "" ? `${error.message} (${code})` : error.message;
};

/** A connected client for a live command, named in pg_stat_activity; errors come back with the password masked. */
export async function connectLive(url: string, applicationName: string): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: 15_000 });
  } catch (error) {
    throw new LiveConnectionError(`cannot use connection string ${maskConnectionString(url)}: ${redactSecrets(describe(error), url)}`);
  }
  // An idle client whose server goes away emits 'error'; the command's own query reports the failure instead.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new LiveConnectionError(`cannot connect to ${maskConnectionString(url)}: ${redactSecrets(describe(error), url)}`);
  }
  return client;
}

/** Any error from a live command as one safe line. */
export const safeMessage = (error: unknown, url: string): string => redactSecrets(describe(error), url);
