// A node:test reporter that records which files had a failing test, one path per line, in the
// file named by AIRWAVES_TEST_FAILURES. run-tests.mjs reads it to rerun a timing-sensitive file
// once; a failure with no file (the runner itself) is recorded as "?" so that nothing is rerun.
import { appendFileSync } from 'node:fs';

// node:test takes a reporter as an async generator; this one writes a file and prints nothing.
// eslint-disable-next-line require-yield
export default async function* failures(source) {
  const out = process.env.AIRWAVES_TEST_FAILURES;
  for await (const event of source) {
    if (event.type === 'test:fail' && out) appendFileSync(out, `${event.data.file ?? '?'}\n`);
  }
}
