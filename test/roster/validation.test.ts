import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseRoster } from "../../infra/roster/load";
import { formatProblem } from "../../infra/roster/problems";

// The bad-input corpus: each case is a roster excerpt beside the exact lines a person would read on stderr.
// Every excerpt is a whole roster that is valid except for the one mistake the case is about, so the
// expected lines are all the problems there are.

/** A YAML excerpt written indented in the test; lines count from the line after the opening backtick. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const lines = String.raw(strings, ...values).replace(/^\n/, "").replace(/\n[ ]*$/, "\n").split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join("\n");
}

/** The lines a person would read on stderr for this roster: one per problem, none when it is valid. */
function problems(source: string): string[] {
  const result = parseRoster(source);
  return result.problems ? result.problems.map(formatProblem) : [];
}

// Keys made here, so that no key material is checked in beyond team.yaml's public keys.
const der = (key: KeyObject, type: "spki" | "pkcs8") => key.export({ type, format: "der" }).toString("base64");
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PUBLIC_KEY = der(rsa.publicKey, "spki");
const PRIVATE_KEY_BODY = der(rsa.privateKey, "pkcs8");
const PKCS1_PUBLIC_KEY_PEM = rsa.publicKey.export({ type: "pkcs1", format: "pem" }).toString();
const WEAK_PUBLIC_KEY = der(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, "spki");
const EC_PUBLIC_KEY = der(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey, "spki");

// The rules in the words the messages use, spelled out here so a change to them shows in this file.
const DEVELOPER_RULE = "A developer name is lowercase letters a-z and digits, starting with a letter, with no underscore (it prefixes <dev>_<domain> schemas)";
const DOMAIN_RULE = "A domain name is lowercase letters a-z, digits and underscores, starting with a letter";
const ACCOUNT_RULE = "A service account name is lowercase letters a-z, digits and underscores, starting with a letter";
const LOGIN_RULE = "A PostgreSQL login is lowercase letters a-z, digits and underscores, starting with a letter";
const SNOWFLAKE_RULE = "A Snowflake user is letters, digits and _ . @ -, starting with a letter; use the user's Snowflake name";
const PASTE_PUBLIC_KEY = "Paste the output of `openssl rsa -in rsa_key.p8 -pubout` (with or without the BEGIN/END lines)";
const A_SECRET = "is a PRIVATE key, which is a secret and must never be in team.yaml (or in git). Remove it now, rotate the key pair, and paste only the public key.";
const long = (length: number, letter = "x") => letter.repeat(length);

// The shape every case starts from; its key is a well-formed RSA public key.
const VALID = yaml`
  domains:
    - name: sales
  developers:
    - name: alice
      email: alice@acme.example
  service_accounts:
    - name: svc_prod
      purpose: prod
      rsa_public_key: ${PUBLIC_KEY}
`;

interface Case {
  rule: string;
  roster: string;
  expected: string[];
}

const cases: Case[] = [
  // --- The file as a whole ---------------------------------------------------------------------------
  {
    rule: "malformed YAML: an unclosed flow list",
    roster: yaml`
      domains: [sales
      developers: []
    `,
    expected: ["team.yaml:2:1: (root): is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]. Fix the YAML syntax at this spot."],
  },
  {
    rule: "malformed YAML: tab indentation",
    roster: "domains:\n\t- name: sales\n",
    expected: ["team.yaml:2:1: (root): is not valid YAML: Tabs are not allowed as indentation. Fix the YAML syntax at this spot."],
  },
  {
    rule: "malformed YAML: a key given twice in one entry",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          email: alice@other.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:6:5: (root): is not valid YAML: Map keys must be unique. Fix the YAML syntax at this spot."],
  },
  {
    rule: "malformed YAML: an alias bomb is refused, not expanded",
    roster: yaml`
      a: &a [x, x, x, x, x, x, x, x, x, x]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    `,
    expected: ["team.yaml:1:1: (root): cannot be read: Excessive alias count indicates a resource exhaustion attack. Write the roster without YAML aliases."],
  },
  {
    rule: "malformed YAML: a second document after ---",
    roster: yaml`
      domains:
        - name: sales
      ---
      developers: []
    `,
    expected: ["team.yaml:3:1: (root): is a second YAML document (after a --- line); a roster is one document. Merge it into the first or remove it."],
  },
  {
    rule: "an empty file",
    roster: "",
    expected: ["team.yaml:1:1: (root): the file is empty. Start from the example team.yaml in the README."],
  },
  {
    rule: "a file with only comments is empty too",
    roster: "# yaml-language-server: $schema=./team.schema.json\n# TODO: fill in\n",
    expected: ["team.yaml:1:1: (root): the file is empty. Start from the example team.yaml in the README."],
  },
  {
    rule: "a file that is a list, not a mapping",
    roster: yaml`
      - name: alice
        email: alice@acme.example
    `,
    expected: ["team.yaml:1:1: (root): is a list, but a roster is a mapping with the keys domains, developers and service_accounts. Start from the example team.yaml in the README."],
  },
  {
    rule: "a file that is a single scalar, not a mapping",
    roster: "# the roster\nalice, bob and carol\n",
    expected: ["team.yaml:2:1: (root): is a single value, but a roster is a mapping with the keys domains, developers and service_accounts. Start from the example team.yaml in the README."],
  },

  // --- Shape: types, keys, required fields ----------------------------------------------------------
  {
    rule: "wrong type: a section that is text instead of a list",
    roster: yaml`
      domains: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:1:1: domains: must be a list, not the text "sales". Write it as a list, e.g. [a, b], or one "- item" per line.'],
  },
  {
    rule: "wrong type: restricted: yes is text in YAML 1.2, not a boolean",
    roster: yaml`
      domains:
        - name: sales
          restricted: yes
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:3:5: domains[0].restricted: must be true or false, not the text "yes". Write true or false.'],
  },
  {
    rule: "wrong type: a name that YAML reads as a number",
    roster: yaml`
      domains:
        - name: 2024
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:2:5: domains[0].name: must be text, not the number 2024. Write it as text (quote it if YAML reads it as something else)."],
  },
  {
    rule: "wrong type: a key with no value",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email:
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:5:5: developers[0].email: is empty, but must be text. Fill it in or remove it."],
  },
  {
    rule: "wrong type: an empty list item",
    roster: yaml`
      domains:
        - name: sales
        -
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:3:4: domains[1]: is empty, but must be a mapping. Fill it in or remove it."],
  },
  {
    rule: "unknown key: a misspelt section is one mistake, not also a missing one",
    roster: yaml`
      domains:
        - name: sales
      developpers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:3:1: developpers: unknown key "developpers"; did you mean "developers"? Fix the spelling.'],
  },
  {
    rule: "unknown key: a misspelt field of an entry",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          emial: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:5:5: developers[0].emial: unknown key "emial"; did you mean "email"? Fix the spelling.'],
  },
  {
    rule: "unknown key: close to a key that is also present",
    roster: yaml`
      domains:
        - name: sales
          reader: [alice]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:3:5: domains[0].reader: unknown key "reader" (did you mean "readers"?). Remove it or fix the spelling.'],
  },
  {
    rule: "wrong type: an item of a list of names",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          domains: [sales, 2024]
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:6:22: developers[0].domains[1]: must be text, not the number 2024. Write it as text (quote it if YAML reads it as something else)."],
  },
  {
    rule: "unknown key: a key YAML reads as a number is still located at its line",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
      2024: planning
    `,
    expected: ['team.yaml:9:1: 2024: unknown key "2024" (known keys here: domains, developers, service_accounts). Remove it or fix the spelling.'],
  },
  {
    rule: "unknown key: nothing like any known key",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          team: platform
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:6:5: developers[0].team: unknown key "team" (known keys here: name, email, domains, snowflake_user, postgres_login). Remove it or fix the spelling.'],
  },
  {
    rule: "missing required field: a developer without an email",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:4:5: developers[0].email: is required but missing. Add email: name@example.com."],
  },
  {
    rule: "missing required field: a service account without a purpose",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: svc_ci
    `,
    expected: ["team.yaml:9:5: service_accounts[1].purpose: is required but missing. Add purpose: prod (or ci)."],
  },
  {
    rule: "missing required field: a whole section",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
    `,
    expected: ['team.yaml:1:1: service_accounts: is required but missing. Add service_accounts: with at least one "- name: <account>" and purpose: prod.'],
  },
  {
    rule: "missing required field: a section with no entries",
    roster: yaml`
      domains: []
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:1:1: domains: lists no domain. Add at least one domain."],
  },
  {
    rule: "a purpose other than prod or ci",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: production
    `,
    expected: ['team.yaml:8:5: service_accounts[0].purpose: must be "prod" or "ci". Use prod for the production runner, ci for CI builds.'],
  },
  {
    rule: "an invalid email",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice at acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:5:5: developers[0].email: is not a valid email address. Write it as name@example.com."],
  },

  // --- Names: unique, following the naming contract, not reserved ----------------------------------
  {
    rule: "duplicate developer names, ignoring case (the upper case is its own mistake)",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
        - name: Alice
          email: alice.b@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [
      `team.yaml:6:5: developers[1].name: "Alice" has upper case ("A" at position 1). ${DEVELOPER_RULE}; use "alice".`,
      'team.yaml:6:5: developers[1].name: duplicate developer name "Alice" (also developers[0]); names must be unique ignoring case. Rename or remove one of them.',
    ],
  },
  {
    rule: "duplicate domain names",
    roster: yaml`
      domains:
        - name: sales
        - name: sales
          description: Bookings
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:3:5: domains[1].name: duplicate domain name "sales" (also domains[0]); names must be unique ignoring case. Rename or remove one of them.'],
  },
  {
    rule: "duplicate service account names, ignoring case",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: SVC_PROD
          purpose: ci
    `,
    expected: [
      `team.yaml:9:5: service_accounts[1].name: "SVC_PROD" has upper case ("S" at position 1). ${ACCOUNT_RULE}; use "svc_prod".`,
      'team.yaml:9:5: service_accounts[1].name: duplicate service account name "SVC_PROD" (also service_accounts[0]); names must be unique ignoring case. Rename or remove one of them.',
    ],
  },
  {
    rule: "a developer name with an underscore, which would make <dev>_<domain> ambiguous",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice_b
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "alice_b" has an underscore at position 6. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "a developer name that starts with a digit",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: "2alice"
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "2alice" starts with "2". ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "a developer name in the wrong case is reported once, at the name, not again at each reference to it",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [carol]
      developers:
        - name: Carol
          email: carol@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:6:5: developers[0].name: "Carol" has upper case ("C" at position 1). ${DEVELOPER_RULE}; use "carol".`],
  },
  {
    rule: "reserved developer name: prod (one message, though its schemas would also take the prod_ schemas' names)",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: prod
          email: prod@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:4:5: developers[0].name: "prod" is a reserved word (a prefix, system or built-in name) and cannot be a developer name. Pick another name, e.g. "alice".'],
  },
  {
    rule: "reserved developer name: public",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: public
          email: public@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:4:5: developers[0].name: "public" is a reserved word (a prefix, system or built-in name) and cannot be a developer name. Pick another name, e.g. "alice".'],
  },
  {
    rule: "reserved service account name: ci",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: ci
          purpose: ci
    `,
    expected: ['team.yaml:9:5: service_accounts[1].name: "ci" is a reserved word (a prefix, system or built-in name) and cannot be a service account name. Pick another name, e.g. "svc_prod".'],
  },
  {
    rule: "a service account in PostgreSQL's reserved pg_ namespace",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: pg_loader
          purpose: prod
    `,
    expected: ['team.yaml:7:5: service_accounts[0].name: "pg_loader" starts with "pg_", which PostgreSQL reserves for its own roles. Pick another name, e.g. "svc_prod".'],
  },
  {
    rule: "a domain name with a hyphen",
    roster: yaml`
      domains:
        - name: web-events
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:2:5: domains[0].name: "web-events" has a hyphen at position 4. ${DOMAIN_RULE}; use e.g. "web_events".`],
  },
  {
    rule: "a domain name that starts with an underscore",
    roster: yaml`
      domains:
        - name: _staging
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:2:5: domains[0].name: "_staging" starts with an underscore. ${DOMAIN_RULE}; use e.g. "web_events".`],
  },

  // --- Identifier injection: rejected by the naming rules, never escaped and passed on ---------------
  {
    rule: "injection: a quote in a developer name",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice"
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "alice\\"" has a double quote at position 6. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: a semicolon in a developer name",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice;drop
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "alice;drop" has a semicolon at position 6. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: a space in a developer name",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice smith
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "alice smith" has a space at position 6. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: 'injection: "; DROP ROLE x; -- as a developer name',
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: '"; DROP ROLE x; --'
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "\\"; DROP ROLE x; --" has a double quote at position 1. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: a Cyrillic look-alike letter (the first 'a' of alice is U+0430)",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: аlice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "\\u0430lice" has the non-ASCII letter U+0430 "а" (a look-alike of a Latin letter?) at position 1. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: a zero-width space inside a developer name",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: "ali\u200Bce"
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "ali\\u200bce" has the invisible character U+200B at position 4. ${DEVELOPER_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: upper case, which Snowflake would need quoted",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: ALICE
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:4:5: developers[0].name: "ALICE" has upper case ("A" at position 1). ${DEVELOPER_RULE}; use "alice".`],
  },
  {
    rule: "injection: SQL in a domain name",
    roster: yaml`
      domains:
        - name: sales; DROP SCHEMA prod_sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:2:5: domains[0].name: "sales; DROP SCHEMA prod_sales" has a semicolon at position 6. ${DOMAIN_RULE}; use e.g. "web_events".`],
  },
  {
    rule: "injection: SQL in a PostgreSQL login",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          postgres_login: alice WITH SUPERUSER
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:6:5: developers[0].postgres_login: "alice WITH SUPERUSER" has a space at position 6. ${LOGIN_RULE}; use e.g. "alice".`],
  },
  {
    rule: "injection: a quote in a Snowflake user",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          snowflake_user: ALICE"--
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [`team.yaml:6:5: developers[0].snowflake_user: "ALICE\\"--" has a double quote at position 6. ${SNOWFLAKE_RULE}; use e.g. "ALICE".`],
  },
  {
    rule: "a Snowflake user longer than Snowflake's 255-character limit",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          snowflake_user: ${long(256, "A")}
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ["team.yaml:6:5: developers[0].snowflake_user: is too long: 256 characters, and a Snowflake user name is at most 255. Use the user's Snowflake name."],
  },

  // --- Generated names: no collisions, within PostgreSQL's 63 bytes -------------------------------------
  {
    rule: "a generated role name that collides: a service account named like a developer's role",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: dev_alice
          purpose: ci
    `,
    expected: ['team.yaml:9:5: service_accounts[1].name: generated role name "dev_alice" (login of service account dev_alice) collides with the role of developer alice. Rename one of them.'],
  },
  {
    rule: "a generated role name that collides with a built-in role",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          postgres_login: prod_writer
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:6:5: developers[0].postgres_login: generated role name "prod_writer" (PostgreSQL login of developer alice) collides with the built-in role prod_writer. Pick another name.'],
  },
  {
    rule: "a generated role name that collides: two developers with one PostgreSQL login",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
        - name: ally
          email: ally@acme.example
          postgres_login: alice
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:8:5: developers[1].postgres_login: generated role name "alice" (PostgreSQL login of developer ally) collides with the PostgreSQL login of developer alice. Rename one of them.'],
  },
  {
    rule: "a generated schema name that collides: a domain listed twice makes the same developer schema twice",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
          domains: [sales, sales]
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:6:22: developers[0].domains[1]: "sales" is listed twice (also domains[0]), which would create schema alice_sales twice. Remove the repeat.'],
  },
  {
    rule: "a generated role name over 63 bytes",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: svc_${long(60)}
          purpose: ci
    `,
    expected: [
      `team.yaml:9:5: service_accounts[1].name: is too long: the generated name "svc_${long(60)}" (64 bytes) exceeds PostgreSQL's 63-byte identifier limit, and PostgreSQL would silently truncate it. Shorten it to at most 63 characters.`,
    ],
  },
  {
    rule: "a generated schema name over 63 bytes, from a developer and a domain that each fit",
    roster: yaml`
      domains:
        - name: sales
        - name: ${long(40, "w")}
      developers:
        - name: ${long(30, "a")}
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [
      `team.yaml:5:5: developers[0].name: is too long: the generated name "${long(30, "a")}_${long(40, "w")}" (71 bytes) exceeds PostgreSQL's 63-byte identifier limit, and PostgreSQL would silently truncate it. Shorten it to at most 22 characters, or shorten the domain names it is combined with.`,
    ],
  },
  {
    rule: "a long domain name is reported once, at the domain, with every name it makes too long",
    roster: yaml`
      domains:
        - name: ${long(59, "w")}
      developers:
        - name: alice
          email: alice@acme.example
        - name: bob
          email: bob@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [
      `team.yaml:2:5: domains[0].name: is too long: the generated names "prod_${long(59, "w")}" (64 bytes), "alice_${long(59, "w")}" (65 bytes) exceed PostgreSQL's 63-byte identifier limit, and PostgreSQL would silently truncate them. Shorten it to at most 57 characters.`,
    ],
  },
  {
    rule: "a restricted domain's reader role over 63 bytes",
    roster: yaml`
      domains:
        - name: sales
        - name: ${long(52, "f")}
          restricted: true
          readers: [alice]
      developers:
        - name: alice
          email: alice@acme.example
          domains: [sales]
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: [
      `team.yaml:3:5: domains[1].name: is too long: the generated name "prod_${long(52, "f")}_reader" (64 bytes) exceeds PostgreSQL's 63-byte identifier limit, and PostgreSQL would silently truncate it. Shorten it to at most 51 characters.`,
    ],
  },

  // --- References between sections ------------------------------------------------------------------
  {
    rule: "a developer's domains naming a domain that does not exist (a typo)",
    roster: yaml`
      domains:
        - name: sales
        - name: finance
      developers:
        - name: alice
          email: alice@acme.example
          domains: [sales, finanse]
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:7:22: developers[0].domains[1]: "finanse" is not a domain in this roster (did you mean "finance"?). Fix the spelling or add the domain.'],
  },
  {
    rule: "a developer's domains naming a domain that does not exist (nothing close)",
    roster: yaml`
      domains:
        - name: sales
        - name: finance
      developers:
        - name: alice
          email: alice@acme.example
          domains:
            - sales
            - logistics
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:9:9: developers[0].domains[1]: "logistics" is not a domain in this roster (domains: sales, finance). Fix the spelling or add the domain.'],
  },
  {
    rule: "readers naming someone who does not exist",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [alice, zed]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:4:22: domains[0].readers[1]: "zed" is not a developer or a `purpose: ci` service account in this roster. Add them to developers or fix the name in readers.'],
  },
  {
    rule: "a restricted-domain reader who is the prod service account",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [alice, svc_prod]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: svc_ci
          purpose: ci
    `,
    expected: ['team.yaml:4:22: domains[0].readers[1]: "svc_prod" is a service account (service_accounts[0]), not a developer or a `purpose: ci` account; the prod writer can already read every prod schema. Remove it from readers.'],
  },
  {
    rule: "a restricted domain that lists one CI account of two: both hold ci_builder",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [alice, svc_ci]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: svc_ci
          purpose: ci
        - name: svc_ci_nightly
          purpose: ci
    `,
    expected: ['team.yaml:4:5: domains[0].readers: lists CI account svc_ci but not svc_ci_nightly; every `purpose: ci` account holds ci_builder, so all of them would read "finance". List every CI account or none.'],
  },
  {
    rule: "a developer working on a restricted domain they may not read",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [alice]
      developers:
        - name: alice
          email: alice@acme.example
        - name: bob
          email: bob@acme.example
          domains: [finance]
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:10:15: developers[1].domains[0]: "finance" is restricted and bob is not one of its readers. Add bob to that domain\'s readers or remove the domain here.'],
  },
  {
    rule: "readers on a domain that is not restricted",
    roster: yaml`
      domains:
        - name: finance
          readers: [alice]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:3:5: domains[0].readers: readers only apply to restricted domains, and "finance" is not restricted. Add `restricted: true` or remove readers.'],
  },
  {
    rule: "a reader listed twice",
    roster: yaml`
      domains:
        - name: finance
          restricted: true
          readers: [alice, alice]
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:4:22: domains[0].readers[1]: "alice" is listed twice (also readers[0]). Remove the repeat.'],
  },

  // --- Service accounts -----------------------------------------------------------------------------
  {
    rule: "no purpose: prod service account",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_ci
          purpose: ci
    `,
    expected: ["team.yaml:6:1: service_accounts: no service account has `purpose: prod`, so nothing could write to prod schemas. Add the production runner's account with purpose: prod."],
  },
  {
    rule: "a service account named like a developer: one message, not one per clashing login",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
        - name: bob
          email: bob@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
        - name: bob
          purpose: ci
    `,
    expected: ['team.yaml:11:5: service_accounts[1].name: service account "bob" has the same name as developer "bob" (developers[1]); a name identifies one person or account on every platform (and is their default login). Rename the service account, e.g. "svc_bob".'],
  },
  {
    rule: "two people on one Snowflake user",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: bob
          email: bob@acme.example
        - name: rob
          email: rob@acme.example
          snowflake_user: bob
      service_accounts:
        - name: svc_prod
          purpose: prod
    `,
    expected: ['team.yaml:8:5: developers[1].snowflake_user: Snowflake user "BOB" is also the user of developers[0] (bob); one Snowflake user cannot be two people. Set a distinct snowflake_user.'],
  },

  // --- RSA public keys ------------------------------------------------------------------------------
  {
    rule: "an RSA key that is not base64 (next to a good one)",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${PUBLIC_KEY}
        - name: svc_ci
          purpose: ci
          rsa_public_key: my key is on the wiki!
    `,
    expected: [`team.yaml:12:5: service_accounts[1].rsa_public_key: is not base64. ${PASTE_PUBLIC_KEY}.`],
  },
  {
    rule: "an RSA key that is base64 but not a key",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${Buffer.from("this is not a key at all").toString("base64")}
    `,
    expected: [`team.yaml:9:5: service_accounts[0].rsa_public_key: is base64 but not a public key. ${PASTE_PUBLIC_KEY}.`],
  },
  {
    rule: "a PRIVATE key pasted by mistake, with its PEM armour",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: |
            -----BEGIN PRIVATE KEY-----
            MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7
            -----END PRIVATE KEY-----
    `,
    expected: [`team.yaml:9:5: service_accounts[0].rsa_public_key: ${A_SECRET}`],
  },
  {
    rule: "a PRIVATE key pasted by mistake, as bare base64",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${PRIVATE_KEY_BODY}
    `,
    expected: [`team.yaml:9:5: service_accounts[0].rsa_public_key: ${A_SECRET}`],
  },
  {
    rule: "an RSA public key in PKCS#1 form, which Snowflake does not read",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${JSON.stringify(PKCS1_PUBLIC_KEY_PEM)}
    `,
    expected: [
      "team.yaml:9:5: service_accounts[0].rsa_public_key: is an RSA key in PKCS#1 form (BEGIN RSA PUBLIC KEY); Snowflake needs the SubjectPublicKeyInfo form (BEGIN PUBLIC KEY). Convert it with `openssl rsa -RSAPublicKey_in -in key.pub -pubout`.",
    ],
  },
  {
    rule: "a public key that is not RSA",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${EC_PUBLIC_KEY}
    `,
    expected: [
      "team.yaml:9:5: service_accounts[0].rsa_public_key: is not an RSA key (it is EC). Snowflake key-pair auth needs an RSA key: `openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt -out rsa_key.p8`.",
    ],
  },
  {
    rule: "an RSA key shorter than Snowflake's 2048 bits",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ${WEAK_PUBLIC_KEY}
    `,
    expected: ["team.yaml:9:5: service_accounts[0].rsa_public_key: is a 1024-bit RSA key; Snowflake needs at least 2048 bits. Generate a new key pair with `openssl genrsa 2048`."],
  },
  {
    rule: "an OpenSSH public key",
    roster: yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: alice@acme.example
      service_accounts:
        - name: svc_prod
          purpose: prod
          rsa_public_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 deploy@ci
    `,
    expected: ["team.yaml:9:5: service_accounts[0].rsa_public_key: is an OpenSSH public key, not the PEM form Snowflake reads. Convert it with `ssh-keygen -e -m PKCS8 -f key.pub` and paste that."],
  },
];

describe("the bad-input corpus", () => {
  it("starts from a roster that is valid, well-formed RSA public key included, so each case's lines are its own mistake", () => {
    expect(problems(VALID)).toEqual([]);
  });

  it("has at least 30 cases, each with a distinct rule", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.rule)).size).toBe(cases.length);
  });

  it.each(cases)("$rule", ({ roster, expected }) => {
    expect(expected.length).toBeGreaterThan(0);
    expect(problems(roster)).toEqual(expected);
  });
});

describe("every problem at once", () => {
  it("reports each independent mistake in one run, sorted by line", () => {
    const roster = yaml`
      domains:
        - name: sales
        - name: Finance
          restricted: true
          readers: [carol]
      developers:
        - name: alice
          email: alice@acme
          domains: [sales, markting]
        - name: bob
          emial: bob@acme.example
      service_accounts:
        - name: svc_ci
          purpose: ci
          rsa_public_key: "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----\n"
    `;
    expect(problems(roster)).toEqual([
      `team.yaml:3:5: domains[1].name: "Finance" has upper case ("F" at position 1). ${DOMAIN_RULE}; use "finance".`,
      'team.yaml:5:15: domains[1].readers[0]: "carol" is not a developer or a `purpose: ci` service account in this roster. Add them to developers or fix the name in readers.',
      "team.yaml:8:5: developers[0].email: is not a valid email address. Write it as name@example.com.",
      'team.yaml:9:22: developers[0].domains[1]: "markting" is not a domain in this roster (domains: sales, Finance). Fix the spelling or add the domain.',
      'team.yaml:11:5: developers[1].emial: unknown key "emial"; did you mean "email"? Fix the spelling.',
      "team.yaml:12:1: service_accounts: no service account has `purpose: prod`, so nothing could write to prod schemas. Add the production runner's account with purpose: prod.",
      `team.yaml:15:5: service_accounts[0].rsa_public_key: ${A_SECRET}`,
    ]);
  });

  it("reports problems in the same entry in the order they appear", () => {
    const roster = yaml`
      domains:
        - name: sales
      developers:
        - name: alice
          email: not-an-email
          postgres_login: Alice
          snowflake_user: 1ALICE
      service_accounts:
        - name: svc_prod
          purpose: prod
    `;
    expect(problems(roster)).toEqual([
      "team.yaml:5:5: developers[0].email: is not a valid email address. Write it as name@example.com.",
      `team.yaml:6:5: developers[0].postgres_login: "Alice" has upper case ("A" at position 1). ${LOGIN_RULE}; use "alice".`,
      `team.yaml:7:5: developers[0].snowflake_user: "1ALICE" starts with "1". ${SNOWFLAKE_RULE}; use e.g. "ALICE".`,
    ]);
  });
});
