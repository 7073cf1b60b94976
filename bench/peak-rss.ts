import { writeFileSync } from "node:fs";

// Preloaded into every bench child (`-r`): on exit, the process's peak RSS goes to BENCH_FIGURES_FILE.

const file = process.env.BENCH_FIGURES_FILE;
if (file !== undefined)
  process.on("exit", () => writeFileSync(file, JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })));
