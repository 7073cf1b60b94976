// The Pulumi entry point (`pulumi up -s prod`): everything lives in program.ts so tests can run it too.
import { runProgram } from "./program";

const outputs = runProgram();

export const prodWriters = outputs.prodWriters;
export const developerSchemas = outputs.developerSchemas;
export const resourceCounts = outputs.resourceCounts;
