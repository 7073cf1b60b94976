import { beforeAll, describe, expect, it } from "vitest";
import { declareResources } from "../../infra/platforms/declare";
import { keyOf, type DeclaredResource } from "../../infra/platforms/resources";
import { declareUnderMocks, type MockedResource } from "../../infra/pulumi/mocks";
import { registerResources } from "../../infra/pulumi/register";
import { shippedBoundary, shippedSettings } from "../support/shipped";

// The Pulumi layer registers the declared list one for one: under Pulumi's mock engine, what the SDK records of each
// registration (type, name, parent, options, serialised inputs) is the list entry itself, in the list's order.

const declared = declareResources(shippedBoundary(), shippedSettings());
let registered: MockedResource[];
beforeAll(async () => {
  registered = await declareUnderMocks((opts) => void registerResources(declared, opts));
});

/** What the mocks can see of a list entry: the resources it names, by key (outputs are the list's own). */
const asMocked = ({ parent, dependsOn, replaceWith, outputs, ...seen }: DeclaredResource): MockedResource => ({
  ...seen, ...(parent === undefined ? {} : { parent: keyOf(parent) }), dependsOn: dependsOn.map(keyOf), replaceWith: replaceWith.map(keyOf),
});

describe("the Pulumi layer under mocks, for the shipped roster on both platforms", () => {
  it("registers every declared resource, in order, with the declared name, parent, inputs and options", () => {
    expect(registered.map((r) => `${r.type}::${r.name}`)).toEqual(declared.map((r) => `${r.type}::${r.name}`));
    expect(registered).toEqual(declared.map(asMocked));
  });

  it("sends inputs the SDK would not change: plain data, nothing undefined", () => {
    expect(registered.map((r) => r.inputs)).toEqual(declared.map((r) => JSON.parse(JSON.stringify(r.inputs))));
  });

  it("refuses a list that refers to a resource it has not declared yet", () => {
    const orphan = { ...declared[1]!, name: "orphan", parent: { ...declared[0]!, name: "nowhere" } };
    expect(() => registerResources([orphan])).toThrow("warehouse-access:postgres:Access::nowhere is referred to before it is declared");
  });

  it("refuses two resources of one type with one name, which Pulumi refuses as one URN", () => {
    const [access, first] = [declared[0]!, declared[1]!];
    expect(() => registerResources([access, first, { ...first, inputs: {} }])).toThrow(`two resources would be ${keyOf(first)}; logical names must be unique per type`);
  });
});
