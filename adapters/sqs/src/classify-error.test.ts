// A server that is not SQS at the endpoint: an answer that is not HTTP is certain (Config), a hang-up is not (retryable).
import { describe, expect, it } from 'vitest';
import { classifyError, HUNG_UP, NOT_HTTP } from './classify-error.js';

// As the SDK's HTTP handler rejects them: Node's error, renamed TimeoutError when its code is ECONNRESET.
const parseError = Object.assign(new Error('Parse Error: Expected HTTP/, RTSP/ or ICE/'), {
  code: 'HPE_INVALID_CONSTANT',
  bytesParsed: 0,
});
const hangUp = Object.assign(new Error('socket hang up'), {
  code: 'ECONNRESET',
  name: 'TimeoutError',
});

describe('classifyError: the endpoint is not SQS', () => {
  it('a reply Node cannot parse as HTTP (an AMQP port) is Config, not retried', () => {
    expect(classifyError(parseError)).toEqual({
      code: 'Config',
      retryable: false,
      message: NOT_HTTP,
    });
    const otherParser = Object.assign(new Error('Parse Error: Invalid header value char'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
    });
    expect(classifyError(otherParser)).toMatchObject({ code: 'Config', retryable: false });
  });

  it('a hang-up before any answer (a Redis port, or a dropped keep-alive) stays retryable, naming both', () => {
    expect(classifyError(hangUp)).toEqual({
      code: 'Unavailable',
      retryable: true,
      message: HUNG_UP,
    });
    // A reset mid-read is the network's, not a timeout, whatever the SDK names it: core's row.
    const reset = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      name: 'TimeoutError',
    });
    expect(classifyError(reset)).toEqual({ code: 'Unavailable', retryable: true });
    const timedOut = Object.assign(new Error('the request socket timed out'), {
      name: 'TimeoutError',
    });
    expect(classifyError(timedOut)).toEqual({ code: 'Timeout', retryable: true });
  });
});
