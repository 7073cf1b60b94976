import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import type { Access, Boundary } from "../../infra/boundary/model";
import { checkBoundary, RULES, type Rule } from "../../infra/boundary/rules";
import { parseRosterText } from "../support/arbitraries";

// Each deny rule fires on a boundary that breaks it. Every case starts from the shipped roster's boundary (which
// breaks nothing), applies one mutation, and lists every violation that mutation must produce: rule, subject, and
// words its message must contain. Nothing else may be reported, so a rule that over-fires fails here too.

const TEAM_YAML = path.resolve(__dirname, "../../team.yaml");
const shipped = (): Boundary => buildBoundary(parseRosterText(readFileSync(TEAM_YAML, "utf8"), TEAM_YAML));

type Mutation = (b: Boundary) => void;
const grant = (role: string, schema: string, access: Access): Mutation => (b) => void b.grants.push({ role, schema, access });
const member = (who: string, role: string): Mutation => (b) => void b.memberships.push({ member: who, role });
const own = (schema: string, owner: string | null): Mutation => (b) => {
  const target = b.schemas.find((s) => s.name === schema);
  if (!target) throw new Error(`no schema ${schema} in the shipped boundary`);
  target.owner = owner;
};
const all = (...mutations: Mutation[]): Mutation => (b) => mutations.forEach((m) => m(b));

interface Expected {
  rule: Rule;
  subject: string;
  /** Words the message must contain. */
  says: string;
}
const v = (rule: Rule, subject: string, says: string): Expected => ({ rule, subject, says });

interface Case {
  mutation: string;
  apply: Mutation;
  expected: Expected[];
}

const cases: Record<Rule, Case[]> = {
  D1: [
    {
      mutation: "a developer role is granted write on prod_sales",
      apply: grant("dev_alice", "prod_sales", "write"),
      expected: [v("D1", "prod_sales", "dev_alice has write on prod schema prod_sales. Remove the grant")],
    },
    {
      mutation: "a developer role owns a prod schema",
      apply: own("prod_sales", "dev_alice"),
      expected: [v("D1", "prod_sales", "dev_alice owns prod schema prod_sales; an owner can write everything in it")],
    },
    {
      mutation: "prod_reader is granted write on prod_marketing",
      apply: grant("prod_reader", "prod_marketing", "write"),
      expected: [v("D1", "prod_marketing", "prod_reader has write on prod schema prod_marketing")],
    },
    {
      mutation: "a CI login is granted write on prod_product directly, bypassing every role",
      apply: grant("svc_ci", "prod_product", "write"),
      expected: [v("D1", "prod_product", "svc_ci has write on prod schema prod_product")],
    },
    {
      mutation: "ci_builder is granted write on prod_scratch, a prod_ schema the roster never declared",
      apply: grant("ci_builder", "prod_scratch", "write"),
      expected: [v("D1", "prod_scratch", "ci_builder has write on prod schema prod_scratch")],
    },
    {
      mutation: "a developer role is granted write on restricted prod_finance: writing is reading, so D5 fires too",
      apply: grant("dev_alice", "prod_finance", "write"),
      expected: [
        v("D1", "prod_finance", "dev_alice has write on prod schema prod_finance"),
        v("D5", "prod_finance", "alice can read restricted prod schema prod_finance through dev_alice but is not one of its readers (carol, erin)"),
      ],
    },
  ],
  D2: [
    {
      mutation: "a CI account is made a member of prod_writer",
      apply: member("svc_ci", "prod_writer"),
      expected: [
        v("D2", "svc_ci", "svc_ci is a member of prod_writer, which only purpose: prod service accounts may hold"),
        v("D5", "prod_finance", "svc_ci can read restricted prod schema prod_finance through prod_writer"),
      ],
    },
    {
      mutation: "ci_builder is made a member of prod_writer, so every CI account reaches it",
      apply: member("ci_builder", "prod_writer"),
      expected: [
        v("D2", "ci_builder", "ci_builder is a member of prod_writer"),
        v("D2", "svc_ci", "svc_ci reaches prod_writer through ci_builder → prod_writer"),
        v("D5", "prod_finance", "svc_ci can read restricted prod schema prod_finance through ci_builder → prod_writer"),
        v("D5", "prod_finance", "ci_builder reads restricted prod schema prod_finance, but its CI schemas of domain finance would be its own; an owner can grant USAGE on them to anyone. Make them restricted copies"),
      ],
    },
    {
      mutation: "a role chain dev_alice → some_role → prod_writer",
      apply: all(member("dev_alice", "some_role"), member("some_role", "prod_writer")),
      expected: [
        v("D2", "some_role", "some_role is a member of prod_writer"),
        v("D2", "dev_alice", "dev_alice reaches prod_writer through some_role → prod_writer. Break that chain"),
        v("D2", "alice", "alice reaches prod_writer through dev_alice → some_role → prod_writer. Break that chain"),
        v("D5", "prod_finance", "alice can read restricted prod schema prod_finance through dev_alice → some_role → prod_writer"),
      ],
    },
    {
      mutation: "a developer is granted the prod service account's login role",
      apply: member("bob", "svc_prod"),
      expected: [
        v("D2", "bob", "bob reaches prod_writer through svc_prod → prod_writer"),
        v("D5", "prod_finance", "bob can read restricted prod schema prod_finance through svc_prod → prod_writer"),
      ],
    },
    {
      mutation: "a developer is made a member of prod_writer directly",
      apply: member("dave", "prod_writer"),
      expected: [
        v("D2", "dave", "dave is a member of prod_writer"),
        v("D5", "prod_finance", "dave can read restricted prod schema prod_finance through prod_writer"),
      ],
    },
    {
      mutation: "a prod service account reaching prod_writer through an extra role is still fine; the role in between is not",
      apply: all(member("svc_prod", "etl_role"), member("etl_role", "prod_writer")),
      expected: [v("D2", "etl_role", "etl_role is a member of prod_writer")],
    },
  ],
  D3: [
    {
      mutation: "PUBLIC is granted read on prod_sales",
      apply: grant("public", "prod_sales", "read"),
      expected: [v("D3", "prod_sales", "PUBLIC has read on prod schema prod_sales directly, so every login does. Remove the grant")],
    },
    {
      mutation: "PUBLIC is granted write on prod_sales (D3's, not D1's, to report)",
      apply: grant("public", "prod_sales", "write"),
      expected: [v("D3", "prod_sales", "PUBLIC has write on prod schema prod_sales directly")],
    },
    {
      mutation: "PUBLIC is made a member of prod_reader (Snowflake: GRANT ROLE prod_reader TO ROLE PUBLIC)",
      apply: member("public", "prod_reader"),
      expected: ["prod_marketing", "prod_product", "prod_sales"].map((schema) =>
        v("D3", schema, `PUBLIC has read on prod schema ${schema} through PUBLIC → prod_reader, so every login does. Remove PUBLIC from prod_reader`),
      ),
    },
    {
      mutation: "PUBLIC is granted read on restricted prod_finance: everyone not listed now reads it",
      apply: grant("public", "prod_finance", "read"),
      expected: [
        v("D3", "prod_finance", "PUBLIC has read on prod schema prod_finance directly"),
        ...["alice", "bob", "dave", "svc_ci"].map((who) =>
          v("D5", "prod_finance", `${who} can read restricted prod schema prod_finance through PUBLIC but is not one of its readers`),
        ),
      ],
    },
    {
      mutation: "PUBLIC is made the owner of prod_sales",
      apply: own("prod_sales", "public"),
      expected: [
        v("D1", "prod_sales", "public owns prod schema prod_sales"),
        v("D3", "prod_sales", "PUBLIC has write on prod schema prod_sales directly (as owner), so every login does. Give the schema back to the provisioner"),
      ],
    },
  ],
  D4: [
    {
      mutation: "a developer schema is owned by another developer's role",
      apply: own("alice_sales", "dev_bob"),
      expected: [v("D4", "alice_sales", "developer schema alice_sales is owned by dev_bob, not by dev_alice. Make the developer's role its owner")],
    },
    {
      mutation: "a developer schema is left to the provisioner",
      apply: own("dave_product", null),
      expected: [v("D4", "dave_product", "developer schema dave_product is owned by the provisioner, not by dev_dave")],
    },
    {
      mutation: "dev_bob is granted write on alice_sales",
      apply: grant("dev_bob", "alice_sales", "write"),
      expected: [v("D4", "alice_sales", "dev_bob can write alice_sales, which belongs to alice, by a direct grant. Remove it")],
    },
    {
      mutation: "bob's login (not his role) is granted write on alice_sales",
      apply: grant("bob", "alice_sales", "write"),
      expected: [v("D4", "alice_sales", "bob can write alice_sales, which belongs to alice, directly")],
    },
    {
      mutation: "dev_bob is made a member of dev_alice, and so writes all of alice's schemas as their owner",
      apply: member("dev_bob", "dev_alice"),
      expected: ["alice_marketing", "alice_product", "alice_sales"].map((schema) =>
        v("D4", schema, `dev_bob can write ${schema}, which belongs to alice, through dev_alice (as owner)`),
      ),
    },
    {
      mutation: "carol is made a member of a role that writes erin's schema",
      apply: all(grant("helpers", "erin_sales", "write"), member("carol", "helpers")),
      expected: [v("D4", "erin_sales", "carol can write erin_sales, which belongs to erin, through helpers")],
    },
    {
      mutation: "PUBLIC is granted write on alice_sales: every other developer writes it",
      apply: grant("public", "alice_sales", "write"),
      expected: ["bob", "carol", "dave", "erin"].map((who) =>
        v("D4", "alice_sales", `${who} can write alice_sales, which belongs to alice, through PUBLIC`),
      ),
    },
  ],
  D5: [
    {
      mutation: "prod_reader is granted read on restricted prod_finance: every non-reader reads it, the listed readers are fine",
      apply: grant("prod_reader", "prod_finance", "read"),
      expected: [
        v("D5", "prod_finance", "alice can read restricted prod schema prod_finance through dev_alice → prod_reader but is not one of its readers (carol, erin)"),
        v("D5", "prod_finance", "bob can read restricted prod schema prod_finance through dev_bob → prod_reader"),
        v("D5", "prod_finance", "dave can read restricted prod schema prod_finance through dev_dave → prod_reader"),
        v("D5", "prod_finance", "svc_ci can read restricted prod schema prod_finance through ci_builder → prod_reader"),
        v("D5", "prod_finance", "ci_builder reads restricted prod schema prod_finance, but its CI schemas of domain finance would be its own; an owner can grant USAGE on them to anyone. Make them restricted copies"),
      ],
    },
    {
      mutation: "dev_alice is added to prod_finance_reader without being a listed reader",
      apply: member("dev_alice", "prod_finance_reader"),
      expected: [
        v("D5", "prod_finance", "alice can read restricted prod schema prod_finance through dev_alice → prod_finance_reader but is not one of its readers (carol, erin). Remove that access or add alice to the domain's readers"),
      ],
    },
    {
      mutation: "a CI account is added to prod_finance_reader",
      apply: member("svc_ci", "prod_finance_reader"),
      expected: [v("D5", "prod_finance", "svc_ci can read restricted prod schema prod_finance through prod_finance_reader")],
    },
    {
      mutation: "ci_builder is granted read on prod_finance",
      apply: grant("ci_builder", "prod_finance", "read"),
      expected: [v("D5", "prod_finance", "svc_ci can read restricted prod schema prod_finance through ci_builder"), v("D5", "prod_finance", "ci_builder reads restricted prod schema prod_finance, but its CI schemas of domain finance would be its own; an owner can grant USAGE on them to anyone. Make them restricted copies")],
    },
    {
      mutation: "erin is dropped from prod_finance's readers while her role keeps the reader role",
      apply: (b) => {
        const finance = b.schemas.find((s) => s.name === "prod_finance")!;
        finance.readers = ["carol"];
      },
      expected: [
        v("D5", "prod_finance", "erin can read restricted prod schema prod_finance through dev_erin → prod_finance_reader but is not one of its readers (carol)"),
        v("D5", "erin_finance", "erin can read erin_finance, a developer copy of restricted domain finance, through dev_erin but is not one of its readers (carol)"),
      ],
    },
    {
      mutation: "a restricted schema whose boundary lists no readers at all: even the reader role's members are outsiders",
      apply: (b) => {
        delete b.schemas.find((s) => s.name === "prod_finance")!.readers;
      },
      expected: ["carol", "erin"].flatMap((who) => [
        v("D5", "prod_finance", `${who} can read restricted prod schema prod_finance through dev_${who} → prod_finance_reader but is not one of its readers (none)`),
        v("D5", `${who}_finance`, `${who} can read ${who}_finance, a developer copy of restricted domain finance, through dev_${who} but is not one of its readers (none)`),
      ]),
    },
    {
      mutation: "carol's copy of finance is handed to her own role: as owner she could grant USAGE on it to anyone",
      apply: all(own("carol_finance", "dev_carol"), (b) => void (b.grants = b.grants.filter((g) => g.schema !== "carol_finance"))),
      expected: [v("D5", "carol_finance", "dev_carol owns carol_finance, a developer copy of restricted domain finance; an owner can grant USAGE on it, and SELECT on what it holds, to anyone. Leave it to the provisioner")],
    },
    {
      mutation: "bob's role is granted read on carol's copy of finance",
      apply: grant("dev_bob", "carol_finance", "read"),
      expected: [v("D5", "carol_finance", "bob can read carol_finance, a developer copy of restricted domain finance, through dev_bob but is not one of its readers (carol, erin)")],
    },
    {
      mutation: "PUBLIC is granted read on erin's copy of finance",
      apply: grant("public", "erin_finance", "read"),
      expected: ["alice", "bob", "dave", "svc_ci"].map((who) =>
        v("D5", "erin_finance", `${who} can read erin_finance, a developer copy of restricted domain finance, through PUBLIC but is not one of its readers`),
      ),
    },
    {
      mutation: "a copy of finance not marked restricted",
      apply: (b) => void (b.schemas.find((s) => s.name === "carol_finance")!.restricted = false),
      expected: [
        v("D5", "carol_finance", "carol_finance holds a copy of restricted domain finance but is not marked restricted"),
        v("D4", "carol_finance", "developer schema carol_finance is owned by the provisioner, not by dev_carol"),
      ],
    },
  ],
};

const key = (x: { rule: string; subject: string }) => `${x.rule} ${x.subject}`;

describe("the deny rules on the shipped roster's boundary", () => {
  it("report nothing for the boundary as built", () => {
    expect(checkBoundary(shipped())).toEqual([]);
  });

  it("have a statement for each of D1–D5 and at least one violating case each", () => {
    expect(Object.keys(RULES)).toEqual(["D1", "D2", "D3", "D4", "D5"]);
    for (const rule of Object.keys(RULES) as Rule[]) expect(cases[rule].length).toBeGreaterThan(0);
  });
});

for (const rule of Object.keys(cases) as Rule[]) {
  describe(`${rule}: ${RULES[rule]}`, () => {
    it.each(cases[rule])("fires when $mutation", ({ apply, expected }) => {
      const boundary = shipped();
      apply(boundary);
      const violations = checkBoundary(boundary);
      expect(violations.map(key).sort()).toEqual(expected.map(key).sort());
      for (const e of expected) {
        const matching = violations.filter((found) => key(found) === key(e) && found.message.includes(e.says));
        expect(matching, `a ${key(e)} violation saying "${e.says}" among:\n${violations.map((x) => `${key(x)}: ${x.message}`).join("\n")}`).toHaveLength(1);
      }
    });
  });
}

describe("violation messages say what is wrong and how to fix it", () => {
  it("reads as one sentence naming the culprit, then the fix", () => {
    const boundary = shipped();
    grant("dev_alice", "prod_sales", "write")(boundary);
    expect(checkBoundary(boundary)).toEqual([
      {
        rule: "D1",
        subject: "prod_sales",
        message: "dev_alice has write on prod schema prod_sales. Remove the grant: only prod_writer may write to prod schemas",
      },
    ]);
  });

  it("reports every violation at once, not only the first", () => {
    const boundary = shipped();
    all(
      grant("dev_alice", "prod_sales", "write"),
      member("svc_ci", "prod_writer"),
      grant("public", "prod_marketing", "read"),
      own("bob_sales", "dev_alice"),
      member("dev_dave", "prod_finance_reader"),
    )(boundary);
    expect([...new Set(checkBoundary(boundary).map((x) => x.rule))].sort()).toEqual(["D1", "D2", "D3", "D4", "D5"]);
  });
});
