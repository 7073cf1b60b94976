import { beforeAll, describe, expect, it } from "vitest";
import { declareResources, type DeclaredResource } from "../../../infra/platforms/declare";
import { DELETE_BEFORE_REPLACE, STORED_FORMS, storedFormProblems } from "../../../infra/platforms/snowflake/stored-form";
import { shippedBoundary, shippedSettings } from "../../support/shipped";

// Every Snowflake input the program registers is in the form terraform-provider-snowflake v1.2.1 keeps after reading
// the resource back, so the first `pulumi up` and every later one agree with the state; replacements that would fight
// the old resource delete it first.

let resources: DeclaredResource[];

beforeAll(async () => {
  const settings = { ...shippedSettings(), platforms: ["snowflake" as const] };
  resources = (await declareResources(shippedBoundary(), settings)).filter((r) => r.custom);
}, 60_000);

describe("Snowflake inputs in the provider's stored form", () => {
  it("holds for every input of every registered resource", () => {
    expect(resources.flatMap((r) => storedFormProblems(r))).toEqual([]);
  });

  it("names the service users' policy attachments by the bare user name, as the provider reads them back", () => {
    const attachments = resources.filter((r) => r.type === "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment");
    expect(attachments.map((r) => r.inputs.userName).sort()).toEqual(["SVC_CI", "SVC_PROD"]);
  });

  it("deletes first wherever a create-first replacement would fight the old resource", () => {
    const missing = resources.filter((r) => r.type in DELETE_BEFORE_REPLACE && !r.deleteBeforeReplace).map((r) => `${r.type} ${r.name}`);
    expect(missing).toEqual([]);
  });

  it("catches an input in another form, and one no rule covers", () => {
    const attachment = { type: "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment", name: "svc_ci", inputs: { userName: '"SVC_CI"', authenticationPolicyName: '"ANALYTICS"."GOVERNANCE"."SERVICE_KEYPAIR_ONLY"' } };
    expect(storedFormProblems(attachment)).toEqual([expect.stringMatching(/userName ""SVC_CI"" is read back as the bare name SVC_CI, and the field is ForceNew/)]);
    const policy = { type: "snowflake:index/authenticationPolicy:AuthenticationPolicy", name: "p", inputs: { database: "ANALYTICS", schema: "GOVERNANCE", name: "P", authenticationMethods: ["keypair"] } };
    expect(storedFormProblems(policy)).toEqual([
      expect.stringMatching(/authenticationMethods\[\] "keypair" is read back as KEYPAIR/),
      expect.stringMatching(/mfaEnrollment is not set, but the provider always sends OPTIONAL/),
    ]);
    expect(storedFormProblems({ type: "snowflake:index/schema:Schema", name: "s", inputs: { name: "S", database: "D", dataRetentionTimeInDays: 1 } }))
      .toEqual([expect.stringMatching(/input dataRetentionTimeInDays has no stored-form rule/)]);
    expect(Object.keys(STORED_FORMS).length).toBeGreaterThan(8);
  });
});
