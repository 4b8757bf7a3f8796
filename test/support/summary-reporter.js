// Mocha's spec reporter, plus the one summary line CI reads: `tests: N passed, N failed[, N skipped]`.
// Plain JS (not compiled) so that mocha can load it before, and without, a build.
// With MOCHA_SUMMARY_JSON=<file> the counts also go to that file after every test (so a run that
// crashes half-way still leaves what it had counted, with "finished": false); .ci/run then prints
// the line itself, last, and this reporter does not print it (exactly one such line per run).
"use strict";
const fs = require("fs");
const Mocha = require("mocha");

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.MOCHA_SUMMARY_JSON;
    const counts = { passed: 0, failed: 0, skipped: 0, skippedTitles: [], finished: false };
    const save = () => {
      if (file) fs.writeFileSync(file, JSON.stringify(counts));
    };
    save();
    runner.on(EVENT_TEST_PASS, () => {
      counts.passed++;
      save();
    });
    // Hooks that fail count too: their tests never ran, so the run is not green.
    runner.on(EVENT_TEST_FAIL, () => {
      counts.failed++;
      save();
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      counts.skipped++;
      counts.skippedTitles.push(test.fullTitle());
      save();
    });
    // Registered after Spec's own listener, so the line comes after mocha's epilogue.
    runner.once(EVENT_RUN_END, () => {
      counts.finished = true;
      save();
      if (!file) process.stdout.write(`${SummaryReporter.line(counts)}\n`);
    });
  }

  static line(c) {
    return `tests: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`;
  }
}

module.exports = SummaryReporter;
