import { connect } from '@omnibus/core';
import { memory } from '@omnibus/memory';
import { runConformanceTests } from './index.js';

// One shared named in-process broker, so that the buses a test opens reach each other (competing
// consumers, a consumer going away); each test's prefix keeps its names apart from every other's.
runConformanceTests({
  name: 'memory',
  connect: ({ prefix }) => connect('memory://conformance', { prefix }),
  // A fresh driver on the same named broker, for the driver-contract tests.
  driver: async () => memory({ name: 'conformance' }),
});
