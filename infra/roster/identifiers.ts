import {
  DEVELOPER_NAME, DOMAIN_NAME, POSTGRES_LOGIN, POSTGRES_RESERVED_PREFIX, RESERVED_NAMES, SERVICE_ACCOUNT_NAME,
  SNOWFLAKE_USER,
} from "./naming";

// Why a name breaks the naming contract, said precisely enough to fix it: the offending character, its
// position, and what it is (an invisible character or a look-alike is otherwise impossible to spot).
// Names that break a rule are rejected, never escaped and passed on to a warehouse.

export interface NameRule {
  /** "developer name", "domain name", ... */
  readonly kind: string;
  readonly pattern: RegExp;
  /** What the first character may be, and every later one. */
  readonly first: RegExp;
  readonly rest: RegExp;
  /** The rule in words, as a sentence. */
  readonly summary: string;
  readonly example: string;
  /** Whether RESERVED_NAMES and the PostgreSQL `pg_` prefix are off limits. */
  readonly reserved: boolean;
}

export const DEVELOPER_RULE: NameRule = {
  kind: "developer name",
  pattern: DEVELOPER_NAME,
  first: /[a-z]/,
  rest: /[a-z0-9]/,
  summary: "A developer name is lowercase letters a-z and digits, starting with a letter, with no underscore (it prefixes <dev>_<domain> schemas)",
  example: "alice",
  reserved: true,
};

export const DOMAIN_RULE: NameRule = {
  kind: "domain name",
  pattern: DOMAIN_NAME,
  first: /[a-z]/,
  rest: /[a-z0-9_]/,
  summary: "A domain name is lowercase letters a-z, digits and underscores, starting with a letter",
  example: "web_events",
  reserved: false,
};

export const SERVICE_ACCOUNT_RULE: NameRule = {
  kind: "service account name",
  pattern: SERVICE_ACCOUNT_NAME,
  first: /[a-z]/,
  rest: /[a-z0-9_]/,
  summary: "A service account name is lowercase letters a-z, digits and underscores, starting with a letter",
  example: "svc_prod",
  reserved: true,
};

export const POSTGRES_LOGIN_RULE: NameRule = {
  kind: "PostgreSQL login",
  pattern: POSTGRES_LOGIN,
  first: /[a-z]/,
  rest: /[a-z0-9_]/,
  summary: "A PostgreSQL login is lowercase letters a-z, digits and underscores, starting with a letter",
  example: "alice",
  reserved: true,
};

export const SNOWFLAKE_USER_RULE: NameRule = {
  kind: "Snowflake user",
  pattern: SNOWFLAKE_USER,
  first: /[A-Za-z]/,
  rest: /[A-Za-z0-9_.@-]/,
  summary: "A Snowflake user is letters, digits and _ . @ -, starting with a letter; use the user's Snowflake name",
  example: "ALICE",
  reserved: false,
};

const hex = (codePoint: number): string => `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;

/** A value quoted for a message: JSON string syntax with everything outside printable ASCII escaped, and cut short. */
export function quote(value: string, max = 60): string {
  const shown = [...value].length > max ? `${[...value].slice(0, max).join("")}…` : value;
  return JSON.stringify(shown).replace(/[^\x20-\x7e…]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0xffff
      ? c.split("").map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

const CHARACTER_NAMES: Record<string, string> = {
  " ": "a space", "\t": "a tab", '"': "a double quote", "'": "a single quote", "`": "a backtick", ";": "a semicolon",
  "-": "a hyphen", ".": "a dot", "_": "an underscore", "\\": "a backslash", "/": "a slash", ",": "a comma",
  "@": "an @",
};

function describeCharacter(c: string): string {
  const named = CHARACTER_NAMES[c];
  if (named) return named;
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x80) return /[\x21-\x7e]/.test(c) ? `"${c}"` : `the control character ${hex(code)}`;
  if (/\p{Cf}/u.test(c)) return `the invisible character ${hex(code)}`;
  if (/[\p{Cc}\p{Z}]/u.test(c)) return `the non-ASCII space or control character ${hex(code)}`;
  if (/\p{L}/u.test(c)) return `the non-ASCII letter ${hex(code)} "${c}" (a look-alike of a Latin letter?)`;
  return `the non-ASCII character ${hex(code)}`;
}

/** Why `value` breaks `rule`, as "<what is wrong>. <how to fix>", or undefined when it is a good name. */
export function nameProblem(rule: NameRule, value: string): string | undefined {
  if (rule.pattern.test(value)) {
    if (!rule.reserved) return undefined;
    if (RESERVED_NAMES.has(value))
      return `${quote(value)} is a reserved word (a prefix, system or built-in name) and cannot be a ${rule.kind}. Pick another name, e.g. "${rule.example}"`;
    if (value.startsWith(POSTGRES_RESERVED_PREFIX))
      return `${quote(value)} starts with "${POSTGRES_RESERVED_PREFIX}", which PostgreSQL reserves for its own roles. Pick another name, e.g. "${rule.example}"`;
    return undefined;
  }
  const characters = [...value];
  if (characters.length === 0) return `is empty. ${rule.summary}; use e.g. "${rule.example}"`;
  const index = characters.findIndex((c, i) => !(i === 0 ? rule.first : rule.rest).test(c));
  const lowered = value.toLowerCase();
  const loweringFixes = lowered !== value && rule.pattern.test(lowered) && nameProblem(rule, lowered) === undefined;
  let what: string;
  if (index < 0) what = "does not follow the rule"; // unreachable while `first`/`rest` mirror `pattern`
  else {
    const c = characters[index]!;
    if (/[A-Z]/.test(c)) what = `has upper case ("${c}" at position ${index + 1})`;
    else if (index === 0 && rule.rest.test(c)) what = `starts with ${describeCharacter(c)}`;
    else what = `has ${describeCharacter(c)} at position ${index + 1}`;
  }
  const advice = loweringFixes ? `use "${lowered}"` : `use e.g. "${rule.example}"`;
  return `${quote(value)} ${what}. ${rule.summary}; ${advice}`;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `value` (ignoring case, within two edits), if any. */
export function closest(value: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(value.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && distance < value.length && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** "a, b, c" for a short list; the first few and a count for a long one. */
export function listOf(names: Iterable<string>, max = 8): string {
  const list = [...names];
  if (list.length === 0) return "none are declared";
  return list.length <= max ? list.join(", ") : `${list.slice(0, max).join(", ")} and ${list.length - max} more`;
}
