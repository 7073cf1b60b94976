// How the npm scripts, the benches and the tests' child processes load TypeScript (`node -r ./scripts/register.js`):
// sucrase strips the types and turns imports into require, and does nothing else. Node 20 runs ES2022 as written, so
// `?.` and `??` stay as they are (sucrase's stand-ins for them allocate on every call, 150,000 times in a large plan),
// and no source map is made (node reads none without --enable-source-maps, and sucrase keeps every line where it was).
"use strict";
const { addHook } = require("pirates");
const { transform } = require("sucrase");

addHook((code, filePath) => transform(code, { transforms: ["typescript", "imports"], disableESTransforms: true, filePath }).code, { exts: [".ts"] });
