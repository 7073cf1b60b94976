import fc from "fast-check";
import { stringify } from "yaml";
import { parseRoster } from "../../infra/roster/load";
import { RESERVED_NAMES } from "../../infra/roster/naming";
import { formatProblem } from "../../infra/roster/problems";
import type { RosterFile } from "../../infra/roster/schema";
import type { Roster } from "../../infra/roster/types";

// fast-check arbitraries of VALID rosters: team.yaml as a person writes it (snake_case, optional keys left out or
// spelled out), and the Roster that parseRoster makes of it. Every roster generated here is one the validator accepts;
// test/boundary/arbitraries.test.ts holds that promise, and fails if the generator and the validator drift apart.
//
//   validRosterFile(opts)  team.yaml's content as an object (what `yaml.parse` would return)
//   validRosterText(opts)  the same, rendered as YAML text by rosterYaml
//   validRoster(opts)      the parsed Roster, made by running the text through parseRoster
//   validRosterCase(opts)  all three at once, for tests that need the file and what it means
//   parseRosterText(text)  parseRoster, throwing with every problem instead of returning them
//
// Names stay short (developers ≤ 10 characters, domains ≤ 16), so every generated schema and role name is far
// inside PostgreSQL's 63-byte limit.

export interface RosterShape {
  /** At most this many developers (at least 1). Default 6. */
  maxDevelopers?: number;
  /** At most this many domains (at least 1). Default 5. */
  maxDomains?: number;
  /** At most this many service accounts (at least 1, and at least one with purpose: prod). Default 3. */
  maxServiceAccounts?: number;
}

export interface RosterCase {
  file: RosterFile;
  text: string;
  roster: Roster;
}

/** Service-account names are `<prefix>_<suffix>`; developers never take a prefix as their name, so that a
 *  developer's `<name>_<suffix>` postgres_login can never be a service account's login. */
const SERVICE_PREFIXES = ["svc", "etl", "dbt", "airflow"] as const;

/** Valid RSA public keys (SPKI, base64 DER). Public keys are not secrets. */
const RSA_PUBLIC_KEYS = [
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5hUjvmnj5vQnU/6j8hZgYQ3LN8IPzMmqgY5v/UtUXg1FBq2UXgDg0VhIzdN5B2DxHqLG8x0X+Zp/K0vTmedxVmBi0Ilqanng9N1X0s+6nZm2V5qhYVnD/XOzrRopvAkxvRaW5pN7geK7jafR3G0HeSfbdR5bP7738MFiOkV2E5Zb16x0OwGORusZ+JmIoCgc9yEziV/CJ7juoNSlMyluLiTiS3eRO3RIl6sj9S9yBO/aAsjWseNoLTyHSrqzXkfMOzIql4na1X8iivrgmGl713h6aO6HRqNZ1PpaDbIVCUxrrSdpjvOLajEq6LniXLJ/rvzNKC5YrZQU3rKIK+nxnQIDAQAB",
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp++GwylwaxmAUMeitHmYxx9j5veet3vyS/pLzubbhCA4X2Usb2Ene1mNNJ6GY34v0N/ADRVFV2vSjijunaDtOGiwIa5gKUiEYfRm0DBjxYUQWYQeI/q2YuOtCZqruzNK/oqx3u2RGbGcNvvlzsKJy2Eqf3dQThI2CRKXcYgjWkFtR3kOuQYLZrioWYqGyFz08vSo29ZAOC1tUvnnaai85B3TXotiYG8QHhscFlsO8ikuwRO2GkDTyrzVdcG8oOgkFLQ0zlkq5cGlWydUaSnf9njLmxwbGDibdALVB7w+R/Wi+SQjxMdQDbWLiU8JziUULBXK3t9QB4qy0dRJLhfcNwIDAQAB",
] as const;

/** The key as `openssl rsa -pubout` prints it: armoured, 64 characters a line. */
const pem = (body: string): string =>
  ["-----BEGIN PUBLIC KEY-----", ...(body.match(/.{1,64}/g) ?? []), "-----END PUBLIC KEY-----", ""].join("\n");

const rsaPublicKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...RSA_PUBLIC_KEYS),
  fc.constantFrom(...RSA_PUBLIC_KEYS).map(pem),
);

/** A developer name: `^[a-z][a-z0-9]*$`, 1 to 10 characters, never reserved, never a service-account prefix. */
export const developerName: fc.Arbitrary<string> = fc
  .stringMatching(/^[a-z][a-z0-9]{0,9}$/)
  .filter((name) => !RESERVED_NAMES.has(name) && !(SERVICE_PREFIXES as readonly string[]).includes(name));

/** A domain name: `^[a-z][a-z0-9_]*$`, 1 to 16 characters. */
export const domainName: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);

// Built once: fc.stringMatching compiles its pattern, and the roster arbitraries below are rebuilt for every draw.
const emailTag = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const snowflakeSuffix = fc.stringMatching(/^[A-Za-z0-9]{1,6}$/);
const loginSuffix = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const accountSuffix = fc.stringMatching(/^[a-z0-9][a-z0-9_]{0,9}$/);

/** Either the value, or the key left out so the roster's default applies: `absent` times in `absent + 1`, default half. */
const optional = <T>(arb: fc.Arbitrary<T>, absent = 1): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary: arb, weight: 1 });

/** An object without the keys whose value is undefined: an optional key is either written or absent. */
const compact = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

type DomainEntry = RosterFile["domains"][number];
type DeveloperEntry = RosterFile["developers"][number];
type ServiceAccountEntry = RosterFile["service_accounts"][number];

function domainEntry(name: string, developers: readonly string[]): fc.Arbitrary<DomainEntry> {
  const description = optional(fc.string({ unit: "grapheme", maxLength: 40 }));
  const open = fc.record({ description, spelledOut: fc.boolean() }).map(({ description, spelledOut }) =>
    compact<DomainEntry>({ name, description, restricted: spelledOut ? false : undefined }),
  );
  const restricted = fc
    .record({ description, readers: fc.shuffledSubarray([...developers]), listEmpty: fc.boolean() })
    .map(({ description, readers, listEmpty }) =>
      compact<DomainEntry>({ name, description, restricted: true, readers: readers.length > 0 || listEmpty ? readers : undefined }),
    );
  return fc.oneof({ arbitrary: open, weight: 2 }, { arbitrary: restricted, weight: 1 });
}

function developerEntry(name: string, readable: readonly string[]): fc.Arbitrary<DeveloperEntry> {
  const caseOf = (text: string, upper: boolean[]) => [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
  return fc
    .record({
      email: fc
        .record({
          tag: optional(emailTag),
          host: fc.constantFrom("acme.example", "example.com", "data.example.org"),
        })
        .map(({ tag, host }) => `${name}${tag === undefined ? "" : `+${tag}`}@${host}`),
      // Left out: every domain the developer can read. Written: some of those, in any order, maybe none.
      domains: optional(fc.shuffledSubarray([...readable])),
      // Overrides start with the developer's own name, so they are unique across the roster.
      snowflake_user: optional(
        fc
          .record({
            upper: fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
            suffix: optional(fc.tuple(fc.constantFrom(".", "@", "_", "-"), snowflakeSuffix)),
          })
          .map(({ upper, suffix }) => `${caseOf(name, upper)}${suffix === undefined ? "" : suffix.join("")}`),
      ),
      postgres_login: optional(loginSuffix.map((suffix) => `${name}_${suffix}`)),
    })
    .map((fields) => compact<DeveloperEntry>({ name, ...fields }));
}

function serviceAccounts(maxServiceAccounts: number): fc.Arbitrary<ServiceAccountEntry[]> {
  const account = fc.record({
    name: fc.tuple(fc.constantFrom(...SERVICE_PREFIXES), accountSuffix).map(([prefix, suffix]) => `${prefix}_${suffix}`),
    purpose: fc.constantFrom("prod" as const, "ci" as const),
    // Left out two times in three: checking a key costs the validator a crypto call, and the boundary only carries it.
    rsa_public_key: optional(rsaPublicKey, 2),
  });
  return fc
    .tuple(fc.uniqueArray(account, { minLength: 1, maxLength: maxServiceAccounts, selector: (a) => a.name }), fc.nat())
    .map(([accounts, pick]) => {
      // At least one production account: when the draw has none, one of them becomes it.
      const prodAt = accounts.some((a) => a.purpose === "prod") ? -1 : pick % accounts.length;
      return accounts.map((a, i) => compact<ServiceAccountEntry>(i === prodAt ? { ...a, purpose: "prod" } : a));
    });
}

/** team.yaml's content: 1..maxDevelopers developers, 1..maxDomains domains (about a third restricted, each to a
 *  random subset of developers), developers with their domains left out or listed (only ones they may read),
 *  optional snowflake_user/postgres_login overrides, and service accounts with at least one `purpose: prod`. */
export function validRosterFile(opts: RosterShape = {}): fc.Arbitrary<RosterFile> {
  const { maxDevelopers = 6, maxDomains = 5, maxServiceAccounts = 3 } = opts;
  if (maxDevelopers < 1 || maxDomains < 1 || maxServiceAccounts < 1)
    throw new RangeError("a valid roster has at least one developer, one domain and one service account");
  return fc
    .record({
      developers: fc.uniqueArray(developerName, { minLength: 1, maxLength: maxDevelopers }),
      domains: fc.uniqueArray(domainName, { minLength: 1, maxLength: maxDomains }),
    })
    .chain(({ developers, domains }) =>
      fc.tuple(...domains.map((domain) => domainEntry(domain, developers))).chain((domainEntries) => {
        const readable = (developer: string) =>
          domainEntries.filter((d) => d.restricted !== true || (d.readers ?? []).includes(developer)).map((d) => d.name);
        return fc
          .record({
            developers: fc.tuple(...developers.map((developer) => developerEntry(developer, readable(developer)))),
            service_accounts: serviceAccounts(maxServiceAccounts),
          })
          .map(({ developers, service_accounts }): RosterFile => ({ domains: domainEntries, developers, service_accounts }));
      }),
    );
}

/** The roster file as YAML text, with the editor modeline team.yaml starts with. */
export const rosterYaml = (file: RosterFile): string =>
  `# yaml-language-server: $schema=./team.schema.json\n${stringify(file)}`;

/** The Roster parseRoster makes of roster text; throws with every problem (and the text) if the validator rejects it. */
export function parseRosterText(text: string, file = "team.yaml"): Roster {
  const result = parseRoster(text, file);
  if (result.problems)
    throw new Error(`the validator rejected ${file}:\n${result.problems.map(formatProblem).join("\n")}\n${text}`);
  return result.roster;
}

/** The Roster parseRoster makes of a roster file; throws with every problem if the validator rejects it. */
export const parseRosterFile = (file: RosterFile): Roster => parseRosterText(rosterYaml(file), "generated.yaml");

export const validRosterText = (opts: RosterShape = {}): fc.Arbitrary<string> => validRosterFile(opts).map(rosterYaml);

export const validRoster = (opts: RosterShape = {}): fc.Arbitrary<Roster> => validRosterFile(opts).map(parseRosterFile);

export const validRosterCase = (opts: RosterShape = {}): fc.Arbitrary<RosterCase> =>
  validRosterFile(opts).map((file) => ({ file, text: rosterYaml(file), roster: parseRosterFile(file) }));
