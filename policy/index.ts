// The pack `pulumi preview --policy-pack policy` loads; the policies live in ./policies.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("warehouse-access", { policies });
