// `npm test` runs this first (pretest): where the .NET SDK is installed, it restores the pinned Bicep
// CLI (tools/bicep) and builds the real Durable engine (local/durable-engine), so the suites that
// need them run. Without .NET it does nothing; vitest.config.mts then says what did not run.
import { spawnSync } from "node:child_process";

const dotnet = spawnSync("dotnet", ["--version"], { stdio: "ignore" });
if (dotnet.status !== 0) process.exit(0);
for (const args of [
  ["restore", "tools/bicep/Bicep.Tools.csproj", "--nologo", "-v", "quiet"],
  ["build", "local/durable-engine", "-c", "Release", "--nologo", "-v", "quiet"],
]) {
  const run = spawnSync("dotnet", args, { stdio: "inherit", env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" } });
  if (run.status !== 0) {
    console.error(`pretest: dotnet ${args.join(" ")} failed (exit ${run.status})`);
    process.exit(run.status ?? 1);
  }
}
