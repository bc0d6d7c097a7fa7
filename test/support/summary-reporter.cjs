// Prints one plain closing line, "tests: N passed, N failed, N skipped", that CI reads as the count.
// It is written at process exit so that it comes after jest's own summary. A spec file that fails
// to run at all counts as one failure.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `\ntests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;
