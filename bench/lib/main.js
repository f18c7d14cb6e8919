'use strict';
// A benchmark file run directly (`node bench/<name>.js`) prints its result as JSON; bench/run.js uses run-one.js.

/** Runs `run()` and prints its result when `mod` is the program's main module. */
function runWhenMain(mod, run) {
  if (require.main !== mod) return;
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { runWhenMain };
