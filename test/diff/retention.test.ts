import { describe, expect, it } from "vitest";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import { shippedBoundary, shippedSettings } from "../support/shipped";

// The diff tells a reviewer what happens to data when a schema leaves the roster. Those sentences are only true
// while the program declares its schemas with these options: if one changes, this fails and the wording must too.

const SCHEMA = { postgres: "postgresql:index/schema:Schema", snowflake: "snowflake:index/schema:Schema" };
const nameOf = (r: DeclaredResource) => String(r.inputs.name ?? "").toLowerCase();

describe("the resource options behind the diff's data-retention wording", () => {
  it("holds for the shipped roster on both platforms", async () => {
    const boundary = shippedBoundary();
    const resources = declareResources(boundary, shippedSettings());
    // The boundary's own schemas only: the program may declare others (e.g. the schema holding CI's helper function).
    const kindOf = new Map(boundary.schemas.map((s) => [s.name, s.kind]));
    const schemas = (type: string, prod: boolean) =>
      resources.filter((r) => r.type === type && kindOf.get(nameOf(r)) === (prod ? "prod" : "developer"));
    for (const type of Object.values(SCHEMA)) {
      expect(schemas(type, true)).toHaveLength(boundary.schemas.filter((s) => s.kind === "prod").length);
      expect(schemas(type, false)).toHaveLength(boundary.schemas.filter((s) => s.kind === "developer").length);
      // "It is protected, so `pulumi up` stops with an error at this schema until someone unprotects it on purpose".
      for (const r of schemas(type, true)) expect(r.protect, `${type} ${r.name} protect`).toBe(true);
      // "retained, never dropped".
      for (const r of schemas(type, false)) expect(r.retainOnDelete, `${type} ${r.name} retainOnDelete`).toBe(true);
    }
    // "Once unprotected it is also retain-on-delete, so Pulumi then forgets it without dropping it".
    for (const type of Object.values(SCHEMA)) for (const r of schemas(type, true)) expect(r.retainOnDelete).toBe(true);
    for (const r of schemas(SCHEMA.postgres, true)) expect(r.inputs.dropCascade ?? false).toBe(false);
    // "on PostgreSQL it stays owned by dev_<name>" (a restricted copy: "the provisioner's, dev_<name> keeping USAGE and
    // CREATE"): the schema itself carries the owner, and a copy's grant to the role is retained too, so forgetting them keeps both.
    const copies = new Set(boundary.schemas.filter((s) => s.kind === "developer" && s.owner === null).map((s) => s.name));
    expect(copies.size).toBeGreaterThan(0);
    for (const r of schemas(SCHEMA.postgres, false)) expect(r.inputs.owner).toBe(copies.has(r.name) ? "provisioner" : `dev_${r.name.split("_")[0]}`);
    const roleGrants = resources.filter((r) => r.type === "postgresql:index/grant:Grant" && /^[a-z0-9]+_[a-z0-9_]+\/dev_[a-z0-9]+\/schema$/.test(r.name));
    expect(roleGrants.map((r) => r.name.split("/")[0]).sort()).toEqual([...copies].sort());
    for (const r of roleGrants) expect(r.retainOnDelete, `${r.name} retainOnDelete`).toBe(true);
    // "on Snowflake it is handed back to the provisioner role": ownership is a separate grant that is deleted with it
    // (a restricted copy was never handed over: "it stays with the provisioner role").
    const handedOver = new Set(resources.filter((r) => r.type === "snowflake:index/grantOwnership:GrantOwnership").map((r) => r.name));
    for (const r of schemas(SCHEMA.snowflake, false)) expect(handedOver.has(r.name), `${r.name} ownership grant`).toBe(!copies.has(r.name));
  });
});
