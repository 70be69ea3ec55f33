// Prints the closing line CI reads, "N passed, N failed", after vitest's own summary.
// A file that fails to load counts as a failure; a run that executed no test fails.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let testsInModule = 0;
      for (const test of mod.children.allTests()) {
        testsInModule++;
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (testsInModule === 0 || mod.state() === "failed") {
        if (mod.errors().length > 0) failed += mod.errors().length;
      }
    }
    failed += unhandledErrors.length;
    if (passed + failed === 0) {
      failed = 1;
      console.log("no test was executed: counting the run as failed");
      process.exitCode = 1;
    }
    console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  }
}
