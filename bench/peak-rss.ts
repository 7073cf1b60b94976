import { writeFileSync } from "node:fs";

// Preloaded into every bench child (`-r`): on exit, the process's peak RSS and CPU time go to BENCH_FIGURES_FILE.

const file = process.env.BENCH_FIGURES_FILE;
if (file !== undefined)
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ peakRssMb: Math.round(usage.maxRSS / 1024), cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  });
