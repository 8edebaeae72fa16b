"""Makes moto_server's SQS queues thread-safe, as real SQS queues are: put on PYTHONPATH to apply.

moto's server answers each request on its own thread, but its SQS queue model is written for one:
DeleteMessage rebuilds the queue's message list without a lock, so two deletes at once put
messages another delete had removed back in the queue (they come back after their visibility
timeout, as duplicates), and a send during a delete can drop the sent message; two receives at
once can hand one message to both. Omnibus's tests run many consumers on one queue and saw the
first as a consumer that still had a message in flight long after every message was handled.
Each queue's operations here hold that queue's own lock (moto's reentrant Condition, which a long
poll's wait releases), so requests to one queue take turns and requests to different queues don't.
Python imports `sitecustomize` at startup from PYTHONPATH, whichever interpreter runs moto_server.
"""

import functools
import sys

try:
    from moto.sqs import models
except ImportError:  # not the interpreter moto is installed in: nothing to patch
    models = None


def _hold_queue_lock(method):
    @functools.wraps(method)
    def locked(self, queue_name, *args, **kwargs):
        with self.get_queue(queue_name)._messages_lock:
            return method(self, queue_name, *args, **kwargs)

    return locked


if models is not None:
    for _name in (
        "receive_message",
        "delete_message",
        "delete_message_batch",
        "change_message_visibility",
        "change_message_visibility_batch",
        "purge_queue",
    ):
        setattr(models.SQSBackend, _name, _hold_queue_lock(getattr(models.SQSBackend, _name)))

    _add_message = models.Queue.add_message

    @functools.wraps(_add_message)
    def _add_message_locked(self, message):
        with self._messages_lock:
            return _add_message(self, message)

    models.Queue.add_message = _add_message_locked
    print("omnibus: moto SQS queue operations hold a lock per queue", file=sys.stderr, flush=True)
