// moto's SQS model, as the tests' moto_server runs it (thread-safe-moto on PYTHONPATH), keeps a queue
// consistent when requests run at once, as SQS does. Without it, eight threads deleting 300
// received messages while another sent 200 left 291–397 in the queue instead of 200: deletes
// undone (a conformance run saw one as a message in flight long after every message was handled).
import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { describe, expect, it } from 'vitest';
import { THREAD_SAFE_MOTO } from './private-moto.js';

// Runs in moto's own Python: its SQS model directly (no server), with threads switched every
// 0.1 ms so a race shows within seconds.
const RACE = `
import sys, threading
sys.setswitchinterval(1e-4)
from moto.sqs.models import sqs_backends
backend = sqs_backends["123456789012"]["us-east-1"]
queue = backend.create_queue("race")
received, sent_during, deleters = 300, 200, 8
for n in range(received):
    backend.send_message("race", str(n))
handles = [m.receipt_handle for m in backend.receive_message("race", received, 0, 3600)]
assert len(handles) == received, len(handles)
def delete(mine):
    for handle in mine:
        backend.delete_message("race", handle)
def send():
    for n in range(sent_during):
        backend.send_message("race", "during-%d" % n)
threads = [threading.Thread(target=delete, args=(handles[k::deleters],)) for k in range(deleters)]
threads.append(threading.Thread(target=send))
[t.start() for t in threads]
[t.join() for t in threads]
print(len(queue._messages))
`;

const python = 'python3';
const probe = spawnSync(python, ['-c', 'import moto.sqs.models'], { encoding: 'utf8' });
const unavailable =
  probe.status === 0 ? undefined : `${python} cannot import moto (pip install "moto[server]")`;
if (unavailable !== undefined && process.env.OMNIBUS_REQUIRE_BROKERS === '1')
  throw new Error(`OMNIBUS_REQUIRE_BROKERS=1 but ${unavailable}`);

describe.skipIf(unavailable !== undefined)('moto with thread-safe SQS queues', () => {
  it('keeps every delete and every send when eight threads delete while another sends', () => {
    const pythonPath = [THREAD_SAFE_MOTO, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
    const run = spawnSync(python, ['-c', RACE], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: pythonPath },
      timeout: 50_000,
    });
    expect(run.stderr).toContain('moto SQS queue operations hold a lock per queue');
    expect(run.status, run.stderr).toBe(0);
    // Only the 200 sent during the deletes are left.
    expect(run.stdout.trim()).toBe('200');
  });
});
