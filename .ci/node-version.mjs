// Preloaded (NODE_OPTIONS=--import) into every Node process of a test pass by .ci/test-on-node.sh.
// It proves from inside the run which Node executes the tests: the first process prints its
// version, and any process on another major than OMNIBUS_EXPECT_NODE_MAJOR refuses to start (a
// tool that silently fell back to the pinned Node 24 would otherwise pass unnoticed).
import process from 'node:process';

const expected = process.env.OMNIBUS_EXPECT_NODE_MAJOR;
const major = process.versions.node.split('.')[0];

if (expected !== undefined && major !== expected) {
  throw new Error(
    `expected Node ${expected} for this test pass, but ${process.execPath} is ${process.version}`,
  );
}

if (process.env.OMNIBUS_NODE_VERSION_REPORTED === undefined) {
  // Child processes inherit the variable, so one line per test script, not one per worker.
  process.env.OMNIBUS_NODE_VERSION_REPORTED = '1';
  console.log(`[node-version] tests run on Node ${process.version} (${process.execPath})`);
}
