// What is specific to SQS and needs no broker: URL parsing, the error table, body and metadata mapping.
import { OmnibusError, WIRE } from '@omnibus/core';
import { describe, expect, it } from 'vitest';
import { classifyError, fromUrl } from './index.js';
import { decode, encode, METADATA_ATTRIBUTE } from './message-mapping.js';

describe('fromUrl', () => {
  it('refuses credentials in the URL without repeating them', () => {
    let failure: unknown;
    try {
      fromUrl(new URL('sqs://AKIDEXAMPLE:s3cr3t-value@us-east-1'));
    } catch (error) {
      failure = error;
    }
    expect(OmnibusError.isInstance(failure) && failure.code).toBe('Config');
    expect(String((failure as Error).message)).not.toContain('s3cr3t');
    expect(String((failure as Error).message)).not.toContain('AKIDEXAMPLE');
  });

  it('reads region, mode and fifo, and refuses unknown parameters and bad values', () => {
    const driver = fromUrl(new URL('sqs://eu-west-1?mode=queue&fifo=true'));
    expect(driver.capabilities.fanout).toBe(false);
    expect(driver.capabilities.ordering).toBe(true);
    expect(driver.capabilities.delayedDelivery).toBe(false);
    void driver.close();
    expect(() => fromUrl(new URL('sqs://eu-west-1?queueMode=1'))).toThrow(/not known/);
    expect(() => fromUrl(new URL('sqs://eu-west-1?mode=topic'))).toThrow(/fanout" or "queue/);
    expect(() => fromUrl(new URL('sqs://eu-west-1?fifo=yes'))).toThrow(/"true" or "false"/);
  });
});

describe('classifyError', () => {
  const named = (name: string, message = name) => Object.assign(new Error(message), { name });
  it('maps AWS names with and without the AWS.SimpleQueueService. prefix alike', () => {
    for (const name of ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'])
      expect(classifyError(named(name))).toMatchObject({ code: 'NotFound', retryable: false });
    expect(classifyError(named('AWS.SimpleQueueService.QueueDeletedRecently'))).toMatchObject({
      code: 'Unavailable',
      retryable: true,
    });
  });
  it('throttling is retryable, access denied is not, an invalid receipt handle is a lost lease', () => {
    expect(classifyError(named('ThrottlingException'))).toMatchObject({ retryable: true });
    expect(classifyError(named('RequestThrottled'))).toMatchObject({ retryable: true });
    expect(classifyError(named('AccessDenied'))).toMatchObject({
      code: 'PermissionDenied',
      retryable: false,
    });
    expect(classifyError(named('ReceiptHandleIsInvalid'))?.message).toMatch(/^lease lost/);
  });
});

describe('message mapping', () => {
  const roundTrip = (body: Uint8Array) => {
    const encoded = encode(body, { a: '1' }, { [WIRE.id]: 'id-1' }, undefined);
    const attributes = Object.fromEntries(
      Object.entries(encoded.attributes).map(([name, value]) => [name, value]),
    );
    return {
      encoded,
      decoded: decode({ Body: encoded.body, MessageAttributes: attributes }, undefined),
    };
  };

  it('sends valid XML text as is, and other bytes base64 with a flag', () => {
    const text = roundTrip(new TextEncoder().encode('{"a":"é"}'));
    expect(text.encoded.body).toBe('{"a":"é"}');
    const binary = new Uint8Array([0, 1, 2, 255, 0xfe]);
    const bytes = roundTrip(binary);
    expect(bytes.encoded.body).toBe(Buffer.from(binary).toString('base64'));
    expect([...bytes.decoded.body]).toEqual([...binary]);
    // A BOM would be lost as text; an empty body can't be sent as text at all.
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    expect([...roundTrip(bom).decoded.body]).toEqual([...bom]);
    expect(roundTrip(new Uint8Array(0)).decoded.body.byteLength).toBe(0);
  });

  it('uses two attributes at most besides the user’s: the packed metadata and traceparent', () => {
    const encoded = encode(
      new TextEncoder().encode('x'),
      Object.fromEntries(Array.from({ length: 8 }, (_, n) => [`k${n}`, 'v'])),
      { [WIRE.id]: 'id', [WIRE.publishedAt]: '1' },
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    expect(Object.keys(encoded.attributes)).toHaveLength(10);
    expect(encoded.attributes[METADATA_ATTRIBUTE]).toBeDefined();
  });

  it('unwraps an SNS envelope only in its full shape, from the subscription’s own topic', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:orders';
    const envelope = {
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: topicArn,
      Timestamp: '2026-11-30T10:00:00.000Z',
      Message: 'inner',
    };
    expect(
      new TextDecoder().decode(decode({ Body: JSON.stringify(envelope) }, topicArn).body),
    ).toBe('inner');
    const forged = JSON.stringify({ ...envelope, TopicArn: 'arn:aws:sns:us-east-1:1:other' });
    expect(new TextDecoder().decode(decode({ Body: forged }, topicArn).body)).toBe(forged);
    const partial = JSON.stringify({ Type: 'Notification', Message: 'inner' });
    expect(new TextDecoder().decode(decode({ Body: partial }, topicArn).body)).toBe(partial);
  });
});
