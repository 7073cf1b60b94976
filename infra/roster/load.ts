import { readFileSync } from "node:fs";
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { core as zcore } from "zod";
import { crossFieldFindings, type RosterFinding } from "./checks";
import { closest, quote } from "./identifiers";
import { snowflakeName } from "./naming";
import { formatPath, RosterError, type RosterPath, type RosterProblem } from "./problems";
import { rsaPublicKeyBody } from "./rsa";
import { rosterFile, type RosterFile } from "./schema";
import type { Roster } from "./types";

export type RosterResult = { roster: Roster; problems?: undefined } | { roster?: undefined; problems: RosterProblem[] };

/** What the stack deploys to, for the rules that depend on it. */
export interface RosterOptions {
  platforms?: readonly string[];
}

/** Parses and validates roster text; `file` names the source in every message. */
export function parseRoster(source: string, file = "team.yaml", options: RosterOptions = {}): RosterResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  const problem = (path: RosterPath, message: string, offset: number): RosterProblem => ({
    file, ...at(offset), path: formatPath(path), message,
  });

  if (doc.errors.length > 0)
    return {
      problems: doc.errors.map((error) =>
        problem(
          [],
          error.code === "MULTIPLE_DOCS"
            ? "is a second YAML document (after a --- line); a roster is one document. Merge it into the first or remove it"
            : `is not valid YAML: ${error.message.split("\n")[0]}. Fix the YAML syntax at this spot`,
          error.pos[0],
        ),
      ),
    };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))
    return { problems: [problem([], "the file is empty. Start from the example team.yaml in the README", doc.contents?.range?.[0] ?? 0)] };
  if (!isMap(doc.contents))
    return {
      problems: [problem(
        [],
        `is ${isSeq(doc.contents) ? "a list" : "a single value"}, but a roster is a mapping with the keys domains, developers and service_accounts. Start from the example team.yaml in the README`,
        doc.contents.range?.[0] ?? 0,
      )],
    };

  let raw: Record<string, unknown>;
  try {
    raw = doc.toJS() as Record<string, unknown>;
  } catch (error) {
    // e.g. the yaml library's guard against alias expansion bombs.
    return { problems: [problem([], `cannot be read: ${(error as Error).message}. Write the roster without YAML aliases`, doc.contents.range?.[0] ?? 0)] };
  }
  const parsed = rosterFile.safeParse(raw);
  const findings: RosterFinding[] = [
    ...(parsed.success ? [] : schemaFindings(parsed.error.issues, raw)),
    ...crossFieldFindings(raw),
    ...platformFindings(raw, options),
  ];
  if (findings.length > 0 || !parsed.success) {
    const problems = findings.map((f) => problem(f.path, f.message, offsetOf(doc, f.path)));
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { problems };
  }
  return { roster: rosterOf(parsed.data) };
}

/** On Snowflake every service user gets a key-pair-only authentication policy: without a key it could never log in. */
function platformFindings(raw: Record<string, unknown>, options: RosterOptions): RosterFinding[] {
  if (!options.platforms?.includes("snowflake") || !Array.isArray(raw.service_accounts)) return [];
  return raw.service_accounts.flatMap((entry: unknown, index): RosterFinding[] => {
    if (entry === null || typeof entry !== "object" || "rsa_public_key" in entry) return [];
    return [{
      path: ["service_accounts", index],
      message: "has no rsa_public_key, and the stack deploys Snowflake, where a service user may log in with a key pair only: it could never log in. Add rsa_public_key: the output of `openssl rsa -in rsa_key.p8 -pubout`",
    }];
  });
}

/** Reads and validates a roster file, throwing a RosterError with every problem. */
export function loadRoster(path: string, options: RosterOptions = {}): Roster {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`;
    throw new RosterError([{ file: path, line: 1, col: 1, path: "(root)", message: `the roster file ${reason}. Pass --roster PATH or create team.yaml` }]);
  }
  const result = parseRoster(source, path, options);
  if (result.problems) throw new RosterError(result.problems);
  return result.roster;
}

const TYPE_NAMES: Record<string, string> = { string: "text", number: "a number", boolean: "true or false", array: "a list", object: "a mapping" };

const HOW_TO_WRITE: Record<string, string> = {
  string: "Write it as text (quote it if YAML reads it as something else)",
  boolean: "Write true or false",
  array: "Write it as a list, e.g. [a, b], or one \"- item\" per line",
  object: "Write it as \"key: value\" lines",
};

/** What to write for a missing required key. */
const EXAMPLES: Record<string, string> = {
  domains: "domains: with at least one \"- name: <domain>\"",
  developers: "developers: with at least one \"- name: <dev>\" and email",
  service_accounts: "service_accounts: with at least one \"- name: <account>\" and purpose: prod",
  name: "name: <name>",
  email: "email: name@example.com",
  purpose: "purpose: prod (or ci)",
};

const valueAt = (raw: unknown, path: RosterPath): unknown =>
  path.reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Record<string | number, unknown>)[key] : undefined), raw);

/** Whether the issue is about a key that the document does not have at all. */
function isMissingKey(path: RosterPath, raw: unknown): boolean {
  const key = path.at(-1);
  const parent = valueAt(raw, path.slice(0, -1));
  return typeof key === "string" && parent !== null && typeof parent === "object" && !Array.isArray(parent) && !Object.hasOwn(parent, key);
}

/** zod's issues in the roster's words. A misspelt key and the required key it was meant to be are one mistake, told once. */
function schemaFindings(issues: readonly zcore.$ZodIssue[], raw: unknown): RosterFinding[] {
  const located = issues.map((issue) => ({ issue, path: issue.path.filter((p): p is string | number => typeof p !== "symbol") }));
  const missing = new Set(
    located.filter(({ path }) => isMissingKey(path, raw)).map(({ path }) => formatPath(path)),
  );
  const misspelt = new Set<string>();
  const findings: RosterFinding[] = [];
  for (const { issue, path } of located) {
    if (issue.code !== "unrecognized_keys") continue;
    for (const key of issue.keys) {
      const guess = closest(key, knownKeys(path));
      const meant = guess === undefined ? undefined : formatPath([...path, guess]);
      if (meant !== undefined && missing.has(meant)) misspelt.add(meant);
      findings.push({
        path: [...path, key],
        message: guess === undefined
          ? `unknown key ${quote(key)} (known keys here: ${knownKeys(path).join(", ")}). Remove it or fix the spelling`
          : meant !== undefined && missing.has(meant)
            ? `unknown key ${quote(key)}; did you mean "${guess}"? Fix the spelling`
            : `unknown key ${quote(key)} (did you mean "${guess}"?). Remove it or fix the spelling`,
      });
    }
  }
  for (const { issue, path } of located) {
    if (issue.code === "unrecognized_keys") continue;
    if (isMissingKey(path, raw)) {
      if (!misspelt.has(formatPath(path))) {
        const key = String(path.at(-1));
        findings.push({ path, message: `is required but missing. Add ${EXAMPLES[key] ?? `${key}: <value>`}` });
      }
      continue;
    }
    if (issue.code === "invalid_type") {
      const expected = issue.expected;
      const input = valueAt(raw, path);
      findings.push({
        path,
        message: input === null
          ? `is empty, but must be ${TYPE_NAMES[expected] ?? expected}. Fill it in or remove it`
          : `must be ${TYPE_NAMES[expected] ?? expected}, not ${describe(input)}. ${HOW_TO_WRITE[expected] ?? "Change the value"}`,
      });
      continue;
    }
    findings.push({ path, message: issue.message });
  }
  return findings;
}

const describe = (input: unknown): string =>
  Array.isArray(input) ? "a list"
    : typeof input === "object" && input !== null ? "a mapping"
      : typeof input === "string" ? `the text ${quote(input)}`
        : typeof input === "boolean" ? `${input}`
          : `the ${typeof input} ${String(input)}`;

function knownKeys(path: RosterPath): string[] {
  const section = path[0];
  const shape =
    path.length === 0 ? rosterFile.shape
      : section === "domains" ? rosterFile.shape.domains.element.shape
        : section === "developers" ? rosterFile.shape.developers.element.shape
          : rosterFile.shape.service_accounts.element.shape;
  return Object.keys(shape);
}

/** Source offset of the key (for mapping entries) or item (for list entries) at `path`, or of its nearest ancestor. */
function offsetOf(doc: Document, path: RosterPath): number {
  for (let depth = path.length; depth > 0; depth--) {
    const key = path[depth - 1];
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    if (isMap(parent)) {
      // Compared as text: `1:` in YAML is the number 1, and the path holds the key as the string "1".
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    } else if (isSeq(parent) && typeof key === "number") {
      const item = parent.items[key];
      if (isNode(item) && item.range) return item.range[0];
    }
  }
  return isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : 0;
}

function rosterOf(file: RosterFile): Roster {
  const readersOf = new Map(file.domains.map((d) => [d.name, new Set(d.readers ?? [])]));
  const readable = (developer: string) =>
    file.domains.filter((d) => !d.restricted || readersOf.get(d.name)?.has(developer)).map((d) => d.name);
  return {
    domains: file.domains.map((d) => ({
      name: d.name,
      ...(d.description === undefined ? {} : { description: d.description }),
      restricted: d.restricted ?? false,
      readers: d.restricted ? [...(d.readers ?? [])] : [],
    })),
    developers: file.developers.map((d) => ({
      name: d.name,
      email: d.email,
      domains: d.domains ? [...d.domains] : readable(d.name),
      snowflakeUser: d.snowflake_user ?? snowflakeName(d.name),
      postgresLogin: d.postgres_login ?? d.name,
    })),
    serviceAccounts: file.service_accounts.map((a) => ({
      name: a.name,
      purpose: a.purpose,
      ...(a.rsa_public_key === undefined ? {} : { rsaPublicKey: rsaPublicKeyBody(a.rsa_public_key) }),
      ...(a.rsa_public_key_2 === undefined ? {} : { rsaPublicKey2: rsaPublicKeyBody(a.rsa_public_key_2) }),
      snowflakeUser: snowflakeName(a.name),
      postgresLogin: a.name,
    })),
  };
}
