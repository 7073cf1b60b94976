import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectLive, safeMessage } from "../../infra/audit/connection";
import { runLiveAudit } from "../../infra/audit/live-command";
import { checkBoundary } from "../../infra/boundary/rules";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../infra/sandbox/server";
import { runCommand, type Script } from "../support/commands";
import { shippedBoundary } from "../support/shipped";

// Every command that takes a connection string, on a real server: what it prints never holds a piece of the password,
// however the password is written, and a string it cannot use is refused in words.

const AUDITOR = "auditor";
const DATABASE = "analytics";
const boundary = shippedBoundary();
let server: ThrowawayPostgres;

beforeAll(async () => {
  server = await startThrowawayPostgres();
  await server.createDatabase(DATABASE);
  const admin = await server.client();
  await admin.query(`CREATE ROLE ${AUDITOR} LOGIN`);
  // The audit checks that the provisioner it is told of is a role of the server.
  await admin.query("CREATE ROLE provisioner");
  await admin.end();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const setPassword = async (password: string) => {
  const admin = await server.client();
  try {
    await admin.query(`ALTER ROLE ${AUDITOR} PASSWORD ${admin.escapeLiteral(password)}`);
  } finally {
    await admin.end();
  }
};
const at = (userInfo: string, query = "") => `postgres://${userInfo}@127.0.0.1:${server.port}/${DATABASE}${query}`;

/** `audit --live` in this process, as its command runs it: everything it printed, and its exit code. */
async function auditLive(url: string, env: { PGPASSWORD?: string } = {}): Promise<{ out: string; code: number | undefined }> {
  const printed: string[] = [];
  const capture = (chunk: string | Uint8Array) => (printed.push(String(chunk)), true);
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(capture);
  const saved = { exitCode: process.exitCode, PGPASSWORD: process.env.PGPASSWORD };
  process.exitCode = undefined;
  if (env.PGPASSWORD === undefined) delete process.env.PGPASSWORD;
  else process.env.PGPASSWORD = env.PGPASSWORD;
  try {
    await runLiveAudit({ roster: "team.yaml", live: url, provisioner: "provisioner", stackConfig: "Pulumi.prod.yaml" }, boundary, checkBoundary(boundary));
    return { out: printed.join(""), code: process.exitCode as number | undefined };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = saved.exitCode;
    if (saved.PGPASSWORD === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = saved.PGPASSWORD;
  }
}

/** Every way a user writes the password: encoded, raw (a mistake), as a query parameter, in PGPASSWORD, and wrong. */
const writings = (password: string) => [
  { url: at(`${AUDITOR}:${encodeURIComponent(password)}`) },
  { url: at(`${AUDITOR}:${password}`) },
  { url: at(AUDITOR, `?password=${encodeURIComponent(password)}`) },
  { url: at(AUDITOR), env: { PGPASSWORD: password } },
  { url: at(`${AUDITOR}:${encodeURIComponent(`${password}-wrong`)}`) },
];

const substrings = (text: string, length = 3): string[] => {
  const all = new Set<string>();
  for (let i = 0; i + length <= text.length; i++) all.add(text.slice(i, i + length));
  return [...all];
};

describe("a password in a connection string", () => {
  it("never shows, in part or whole, in what audit --live prints, however it is written", async () => {
    // Every message the command can give, printed for control passwords (which must not show in it themselves): a
    // fragment of the password under test that these messages hold anyway ("all", "127") is not a leak.
    const controls = ["Qz9xQz9x", "Qz9@x/Qz9", "Qz9?x#Qz9:9"];
    const printed: string[] = [];
    for (const control of controls) {
      await setPassword(control);
      for (const { url, env } of writings(control)) printed.push((await auditLive(url, env)).out);
    }
    const vocabulary = printed.join("\n");
    expect(vocabulary).toContain("at postgres://auditor:***@127.0.0.1:");
    for (const control of controls) for (const fragment of substrings(control)) expect(vocabulary).not.toContain(fragment);

    const printable = fc.string({ unit: fc.constantFrom(..." !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~@:/?#%"), minLength: 3, maxLength: 24 });
    await fc.assert(
      fc.asyncProperty(printable, async (password) => {
        await setPassword(password);
        const fragments = substrings(password).filter((s) => !vocabulary.includes(s));
        for (const { url, env } of writings(password)) {
          const { out } = await auditLive(url, env);
          for (const fragment of fragments) expect(out, `${JSON.stringify(url)} printed ${JSON.stringify(fragment)}`).not.toContain(fragment);
        }
        // The encoded URL is the right way to write any password: it connects.
        expect((await auditLive(writings(password)[0]!.url)).out).toContain("at postgres://auditor:***@127.0.0.1:");
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("connects when written encoded, whatever it holds, and errors from a connection carry none of it", async () => {
    const password = "Tr0ub@dor/3?#%:x";
    await setPassword(password);
    const client = await connectLive(at(`${AUDITOR}:${encodeURIComponent(password)}`), "test");
    await client.end();
    const refused = await connectLive(at(`${AUDITOR}:${encodeURIComponent(`${password}!`)}`), "test").catch((e: unknown) => e);
    expect(safeMessage(refused, at(`${AUDITOR}:${encodeURIComponent(`${password}!`)}`))).toMatch(/^cannot connect to postgres:\/\/auditor:\*\*\*@127\.0\.0\.1:\d+\/analytics: password authentication failed for user "auditor" \(28P01\)$/);
  });
});

describe("commands that take --live", () => {
  const scripts: [Script, string[]][] = [
    ["audit", []],
    ["cleanup-ci", ["--older-than", "1d"]],
    ["ci-schema", ["--run", "r1", "--domain", "sales"]],
  ];
  const cases: [string, (port: number) => string, RegExp][] = [
    ["a raw @ and / in the password", (port) => `postgres://alice:Tr0ub@dor/3@127.0.0.1:${port}/analytics`, /has an @ after its host/],
    ["a raw @, : and / in the password", (port) => `postgres://alice:p@ss:w/rd@127.0.0.1:${port}/analytics`, /has an @ after its host/],
    ["a raw @ and a bad port", () => "postgres://alice:p@ss@127.0.0.1:70000/analytics", /the port must be a number from 1 to 65535/],
    ["text that is not a URL", () => "not a url", /takes a URL that starts with postgres:\/\//],
    ["an empty string", () => "", /--live needs a connection string/],
    ["no password anywhere", (port) => `postgres://${AUDITOR}@127.0.0.1:${port}/analytics`, /asks for a password for user auditor and none was given: set PGPASSWORD, add it to ~\/\.pgpass/],
  ];

  it.each(scripts)("%s refuses every unusable connection string in words, exit 2, printing no piece of the password", async (script, extra) => {
    // audit gets every case; the others share its connection code, so two cases show they use it.
    for (const [, url, message] of script === "audit" ? cases : [cases[0]!, cases[5]!]) {
      const run = await runCommand(script, ["--live", url(server.port), ...extra], { env: { PGPASSWORD: "", HOME: "/nonexistent" } });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      for (const fragment of ["Tr0ub", "dor/", "p@ss", "w/rd", "70000@"]) expect(run.stderr).not.toContain(fragment);
      expect(run.stderr).not.toMatch(/ENOTFOUND|SASL|getaddrinfo|at .*\.ts:\d+/);
    }
  }, 120_000);
});
