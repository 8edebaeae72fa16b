// On the emulator the driver never probes for Google Cloud credentials (which warns off Google Cloud).
import { afterAll, describe, expect, it } from 'vitest';
import { gcpPubSub } from './gcp-pubsub.js';
import { EMULATOR_HOST, emulatorUnavailable, PROJECT_ID } from './testing/emulator.js';

const unavailable = await emulatorUnavailable();

describe.skipIf(unavailable !== undefined)('the emulator and the metadata server', () => {
  const saved = process.env.METADATA_SERVER_DETECTION;
  afterAll(() => {
    if (saved === undefined) delete process.env.METADATA_SERVER_DETECTION;
    else process.env.METADATA_SERVER_DETECTION = saved;
  });

  it('calls the emulator without a MetadataLookupWarning, with metadata detection left on', async () => {
    // CI turns detection off; a user's shell doesn't.
    delete process.env.METADATA_SERVER_DETECTION;
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const driver = gcpPubSub({ projectId: PROJECT_ID, apiEndpoint: EMULATOR_HOST });
    try {
      const topic = `metadata-${Date.now().toString(36)}`;
      await driver.ensureTopic({ topic });
      await driver.deleteTopic({ topic });
    } finally {
      await driver.close();
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.startsWith('MetadataLookupWarning'))).toEqual([]);
  });
});
