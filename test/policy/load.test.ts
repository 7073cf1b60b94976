import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/shipped";
import { urnOf, type Written } from "./harness";

// The pack started the way `pulumi preview --policy-pack policy` starts it: pulumi-language-nodejs resolves
// @pulumi/pulumi/cmd/run-policy-pack from the pack's directory and runs it there, which loads index.ts with ts-node
// (type-checking, with policy/tsconfig.json) and serves the Analyzer gRPC service; here a test plays the engine.

type AnalyzerPb = typeof import("@pulumi/pulumi/proto/analyzer_pb");
type AnalyzerGrpcPb = typeof import("@pulumi/pulumi/proto/analyzer_grpc_pb");
type AnalyzerClient = import("@pulumi/pulumi/proto/analyzer_grpc_pb").AnalyzerClient;
type AnalyzeResponse = import("@pulumi/pulumi/proto/analyzer_pb").AnalyzeResponse;
type Grpc = typeof import("@grpc/grpc-js");

const PACK = path.join(REPO_ROOT, "policy");
const entry = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK] });
// The engine's side of the wire, from the SDK copy next to the pack's entry point.
const sdk = createRequire(entry);
const grpc = sdk("@grpc/grpc-js") as Grpc;
const pb = sdk("@pulumi/pulumi/proto/analyzer_pb") as AnalyzerPb;
const rpc = sdk("@pulumi/pulumi/proto/analyzer_grpc_pb") as AnalyzerGrpcPb;
const { Struct } = sdk("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");
const { Empty } = sdk("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");

let child: ChildProcess | undefined;
let client: AnalyzerClient;
let stderr = "";

beforeAll(async () => {
  const started = spawn(process.execPath, [entry, "127.0.0.1:0", "."], { cwd: PACK, stdio: ["ignore", "pipe", "pipe"] });
  child = started;
  started.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // The pack prints the port it serves on, and nothing else, once index.ts has loaded.
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    started.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    started.on("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
  });
  client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 180_000);

afterAll(() => {
  client?.close();
  child?.kill();
});

const call = <T>(invoke: (done: (error: Error | null, response: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => invoke((error, response) => (error ? reject(error) : resolve(response))));

const optionsOf = (r: Written) => new pb.AnalyzerResourceOptions().setProtect(r.protect === true);

const analyze = (r: Written): Promise<AnalyzeResponse> =>
  call((done) => client.analyze(
    new pb.AnalyzeRequest().setType(r.type).setName(r.name).setUrn(urnOf(r)).setProperties(Struct.fromJavaScript(r.props as never)).setOptions(optionsOf(r)),
    done,
  ));

const analyzeStack = (rs: Written[]): Promise<AnalyzeResponse> =>
  call((done) => client.analyzeStack(
    new pb.AnalyzeStackRequest().setResourcesList(rs.map((r) =>
      new pb.AnalyzerResource().setType(r.type).setName(r.name).setUrn(urnOf(r)).setProperties(Struct.fromJavaScript(r.props as never)).setOptions(optionsOf(r)))),
    done,
  ));

const diagnostics = (response: AnalyzeResponse) =>
  response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), mandatory: d.getEnforcementlevel() === pb.EnforcementLevel.MANDATORY, message: d.getMessage() }));

describe("the policy pack as the Pulumi CLI runs it", () => {
  it("serves the pack warehouse-access at package.json's version, every policy mandatory", async () => {
    const info = await call<import("@pulumi/pulumi/proto/analyzer_pb").AnalyzerInfo>((done) => client.getAnalyzerInfo(new Empty(), done));
    expect(info.getName()).toBe("warehouse-access");
    expect(info.getVersion()).toBe("0.1.0");
    const policies = info.getPoliciesList();
    expect(policies.map((p) => p.getName())).toContain("prod-write-only-by-prod-writer");
    expect(policies.every((p) => p.getEnforcementlevel() === pb.EnforcementLevel.MANDATORY)).toBe(true);
  });

  it("rejects a hand-written grant of INSERT on prod_sales tables to dev_alice", async () => {
    const grant: Written = {
      type: "postgresql:index/grant:Grant",
      name: "prod_sales/dev_alice/insert",
      props: { database: "analytics", schema: "prod_sales", objectType: "table", objects: [], role: "dev_alice", privileges: ["INSERT"] },
    };
    expect(diagnostics(await analyze(grant))).toEqual([{
      policy: "prod-write-only-by-prod-writer",
      mandatory: true,
      // @pulumi/policy puts the policy's description on the line before the violation.
      message: "D1: no grant, default privilege, ownership or role attribute gives anything but prod_writer write on a prod_ schema or its objects.\n"
        + 'postgresql:index/grant:Grant "prod_sales/dev_alice/insert" breaks D1 (only prod_writer writes to prod_ schemas): '
        + "it grants INSERT on all tables in schema prod_sales to dev_alice. Fix: give dev_alice read only (USAGE on the schema, "
        + "SELECT on its tables) or nothing; production writes run as a `purpose: prod` service account of team.yaml, which holds prod_writer.",
    }]);
  });

  it("judges a resource whose values a preview cannot know yet by what it does know", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const schema: Written = { type: "snowflake:index/schema:Schema", name: "prod_archive", protect: true, props: { name: "PROD_ARCHIVE", database: unknown, comment: unknown } };
    expect(diagnostics(await analyze(schema)).map((d) => d.policy)).toEqual(["prod-schemas-managed-access"]);
  });

  it("runs the stack policies over every resource", async () => {
    const stack: Written[] = [
      { type: "snowflake:index/grantAccountRole:GrantAccountRole", name: "alice/dev_alice", props: { roleName: '"DEV_ALICE"', userName: '"ALICE"' } },
      { type: "snowflake:index/grantAccountRole:GrantAccountRole", name: "dev_alice/prod_writer", props: { roleName: '"PROD_WRITER"', parentRoleName: '"DEV_ALICE"' } },
    ];
    const found = diagnostics(await analyzeStack(stack));
    expect(found.map((d) => d.policy)).toContain("prod-writer-held-only-by-prod-service-accounts");
    expect(found.find((d) => d.policy === "prod-writer-held-only-by-prod-service-accounts")?.message)
      .toContain("user ALICE holds PROD_WRITER (ALICE → DEV_ALICE → PROD_WRITER)");
  });
});
