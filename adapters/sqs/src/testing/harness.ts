// The conformance harness on moto, for one mode of the adapter: URL, driver factory, unreachable and wrong-protocol endpoints.
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { ConformanceHarness } from '@omnibus/conformance';
import { connect } from '@omnibus/core';
import type { DriverV2, SubscriptionSpec } from '@omnibus/core/driver';
import { sqs } from '../index.js';

/** moto's endpoint (SQS and SNS on one port); shared with other runs: names are unique per test. */
export const MOTO_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
export const REGION = 'us-east-1';
const REQUIRE = process.env.OMNIBUS_REQUIRE_BROKERS === '1';

// moto takes any credentials; the SDK's default chain reads these.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Why moto can't be used, or `undefined` when it answers; throws under OMNIBUS_REQUIRE_BROKERS=1. */
export async function motoUnavailable(): Promise<string | undefined> {
  try {
    const response = await fetch(`${MOTO_ENDPOINT}/moto-api/`, {
      signal: AbortSignal.timeout(3_000),
    });
    if (response.ok) return undefined;
    throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    const reason = `moto is not reachable at ${MOTO_ENDPOINT} (${(error as Error).message}); start it with: bash .ci/brokers.sh start`;
    if (REQUIRE) throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${reason}`);
    return reason;
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An HTTP endpoint that is not SQS: it answers every request with an HTML page. */
async function notSqsEndpoint(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html><body>not SQS</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * The driver with `ensureSubscription` called again after a retryable failure, as core does for
 * every bus call (the contract tests call the driver directly). moto 5.2 crashes with a 500 when a
 * redrive policy is set while another request creates a queue (its `_setup_dlq` walks every queue:
 * "dictionary changed size during iteration"), which the shared moto meets under parallel runs.
 */
function withMotoRetries(driver: DriverV2): DriverV2 {
  const ensureSubscription = driver.ensureSubscription.bind(driver);
  return Object.assign(driver, {
    async ensureSubscription(spec: SubscriptionSpec) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await ensureSubscription(spec);
        } catch (error) {
          if (attempt >= 3 || driver.classifyError?.(error)?.retryable !== true) throw error;
        }
      }
    },
  });
}

/** The harness for one mode: `settings` become the URL's parameters (`mode=queue`, `fifo=true`, `waitTimeSeconds=1`). */
export function sqsHarness(
  name: string,
  settings: { mode?: 'fanout' | 'queue'; fifo?: boolean; waitTimeSeconds?: number },
): ConformanceHarness {
  const query = new URLSearchParams({ endpoint: MOTO_ENDPOINT });
  if (settings.mode !== undefined) query.set('mode', settings.mode);
  if (settings.fifo !== undefined) query.set('fifo', String(settings.fifo));
  if (settings.waitTimeSeconds !== undefined)
    query.set('waitTimeSeconds', String(settings.waitTimeSeconds));
  const url = `sqs://${REGION}?${query}`;
  const wrongProtocol = notSqsEndpoint();
  return {
    name,
    connect: ({ prefix }) => connect(url, { prefix }),
    driver: async () =>
      withMotoRetries(sqs({ region: REGION, endpoint: MOTO_ENDPOINT, ...settings })),
    connectUnreachable: async ({ prefix, operationTimeoutMs }) =>
      connect(
        sqs({
          region: REGION,
          endpoint: `http://127.0.0.1:${await freePort()}`,
          operationTimeoutMs,
          ...settings,
        }),
        { prefix },
      ),
    connectWrongProtocol: async ({ prefix, operationTimeoutMs }) =>
      connect(
        sqs({ region: REGION, endpoint: await wrongProtocol, operationTimeoutMs, ...settings }),
        {
          prefix,
        },
      ),
  };
}
