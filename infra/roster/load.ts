import { readFileSync } from "node:fs";
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { core as zcore } from "zod";
import { crossFieldFindings, type RosterFinding } from "./checks";
import { snowflakeName } from "./naming";
import { formatPath, RosterError, type RosterPath, type RosterProblem } from "./problems";
import { rsaPublicKeyBody } from "./rsa";
import { rosterFile, type RosterFile } from "./schema";
import type { Roster } from "./types";

export type RosterResult = { roster: Roster; problems?: undefined } | { roster?: undefined; problems: RosterProblem[] };

/** Parses and validates roster text; `file` names the source in every message. */
export function parseRoster(source: string, file = "team.yaml"): RosterResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  const problem = (path: RosterPath, message: string, offset: number): RosterProblem => ({
    file, ...at(offset), path: formatPath(path), message,
  });

  if (doc.errors.length > 0)
    return {
      problems: doc.errors.map((error) =>
        problem([], `is not valid YAML: ${error.message.split("\n")[0]}. Fix the YAML syntax at this spot`, error.pos[0]),
      ),
    };
  if (doc.contents === null)
    return { problems: [problem([], "the file is empty. Start from the example team.yaml in the README", 0)] };
  if (!isMap(doc.contents))
    return {
      problems: [problem([], "must be a mapping with the keys domains, developers and service_accounts. Start from the example team.yaml in the README", doc.contents.range?.[0] ?? 0)],
    };

  const raw = doc.toJS() as Record<string, unknown>;
  const parsed = rosterFile.safeParse(raw);
  const findings: RosterFinding[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap(findingsOf)),
    ...crossFieldFindings(raw),
  ];
  if (findings.length > 0 || !parsed.success) {
    const problems = findings.map((f) => problem(f.path, f.message, offsetOf(doc, f.path)));
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { problems };
  }
  return { roster: rosterOf(parsed.data) };
}

/** Reads and validates a roster file, throwing a RosterError with every problem. */
export function loadRoster(path: string): Roster {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`;
    throw new RosterError([{ file: path, line: 1, col: 1, path: "(root)", message: `the roster file ${reason}. Pass --roster PATH or create team.yaml` }]);
  }
  const result = parseRoster(source, path);
  if (result.problems) throw new RosterError(result.problems);
  return result.roster;
}

const TYPE_NAMES: Record<string, string> = { string: "text", number: "a number", boolean: "true or false", array: "a list", object: "a mapping" };

function findingsOf(issue: zcore.$ZodIssue): RosterFinding[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown key "${key}"${suggestion(key, knownKeys(path))}. Remove it or fix the spelling`,
      }));
    case "invalid_type":
      if (issue.input === undefined)
        return [{ path, message: `is required but missing. Add ${String(path.at(-1))}: <${issue.expected}>` }];
      return [{ path, message: `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${describe(issue.input)}. Change the value` }];
    default:
      return [{ path, message: issue.message }];
  }
}

const describe = (input: unknown): string =>
  input === null ? "empty" : Array.isArray(input) ? "a list" : typeof input === "object" ? "a mapping" : `${typeof input} ${JSON.stringify(input)}`;

function knownKeys(path: RosterPath): string[] {
  const section = path[0];
  const shape =
    path.length === 0 ? rosterFile.shape
      : section === "domains" ? rosterFile.shape.domains.element.shape
        : section === "developers" ? rosterFile.shape.developers.element.shape
          : rosterFile.shape.service_accounts.element.shape;
  return Object.keys(shape);
}

/** "Did you mean" for typos within two edits, e.g. developpers → developers. */
function suggestion(key: string, known: string[]): string {
  const distance = (a: string, b: string): number => {
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
  };
  const close = known.filter((k) => distance(key.toLowerCase(), k) <= 2);
  return close.length > 0 ? ` (did you mean "${close[0]}"?)` : ` (known keys: ${known.join(", ")})`;
}

/** Source offset of the key (for mapping entries) or item (for list entries) at `path`, or of its nearest ancestor. */
function offsetOf(doc: Document, path: RosterPath): number {
  for (let depth = path.length; depth > 0; depth--) {
    const key = path[depth - 1];
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
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
      snowflakeUser: snowflakeName(a.name),
      postgresLogin: a.name,
    })),
  };
}
