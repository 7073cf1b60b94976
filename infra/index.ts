// The Pulumi entry point (`pulumi up -s prod`): the thin Pulumi layer (pulumi/) registers the declared resources.
import { runProgram } from "./pulumi/program";

const outputs = runProgram();

export const prodWriters = outputs.prodWriters;
export const developerSchemas = outputs.developerSchemas;
export const resourceCounts = outputs.resourceCounts;
