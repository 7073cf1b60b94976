// Writes team.schema.json from the zod schema, so editors validate and complete team.yaml
// (team.yaml's first line points yaml-language-server at it). Run `npm run schema` after changing
// infra/roster/schema.ts; test/roster/schema.test.ts fails while the checked-in file is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { rosterJsonSchemaText } from "../infra/roster/schema";

const file = join(__dirname, "..", "team.schema.json");
writeFileSync(file, rosterJsonSchemaText());
console.log(`wrote ${file}`);
