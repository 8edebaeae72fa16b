import { connect } from '@omnibus/core';
import type { Capabilities, DriverV2 } from '@omnibus/core/driver';
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

/** The memory driver declaring less than it does: a weaker promise is still a true one. */
function declaringLess(driver: DriverV2): DriverV2 {
  const capabilities: Capabilities = {
    ...driver.capabilities,
    attempts: 'approximate',
    deadLetterAdmin: { peek: 'count-bumping', count: 'approximate', redrive: 'subscription' },
  };
  return { ...driver, capabilities };
}

// The same broker again, declaring approximate attempts, count-bumping peeks and approximate DLQ
// counts, so the suite's checks for those declarations (what SQS and Pub/Sub will declare) run too.
runConformanceTests({
  name: 'memory declaring approximate attempts and count-bumping peeks',
  connect: ({ prefix }) =>
    connect(declaringLess(memory({ name: 'conformance-approximate' })), { prefix }),
  driver: async () => declaringLess(memory({ name: 'conformance-approximate' })),
});
