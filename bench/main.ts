// npm run bench: the polling benchmark, then the cold-load benchmark. `npm run bench -- --check`
// makes a missed polling target (bench/polling.ts) and a cold-load ratio above 0.5 failing exit
// codes. What each measures: bench/README.md.
import { runColdLoadBench } from "./coldLoad";
import { formatPollingReport, pollingTargetMisses, runPollingBench } from "./polling";

const polling = runPollingBench();
console.log(formatPollingReport(polling));
if (process.argv.includes("--check") && pollingTargetMisses(polling).length > 0) process.exitCode = 1;
console.log("");
runColdLoadBench(process.argv.slice(2));
