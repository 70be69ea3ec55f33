// npm run bench: the polling benchmark, then the cold-load benchmark (`npm run bench -- --check`
// makes the cold-load ratio a failing exit code). What each measures: bench/README.md.
import { runColdLoadBench } from "./coldLoad";
import { formatPollingReport, runPollingBench } from "./polling";

console.log(formatPollingReport(runPollingBench()));
console.log("");
runColdLoadBench(process.argv.slice(2));
