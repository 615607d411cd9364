#!/usr/bin/python3
"""Publish a Warren task from Python with pika and print its final result as JSON.

    /usr/bin/python3 docs/examples/pika_roundtrip.py amqp://guest:guest@127.0.0.1:5673/ default

Needs a `warren worker` consuming QUEUE (and, to find the result later with `warren results show
ID`, a `warren backend`). See docs/protocol.md.
"""
import json
import sys
import uuid

import pika

url, queue = sys.argv[1], sys.argv[2]
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.confirm_delivery()  # basic_publish now raises if the broker refuses the task

task_id = str(uuid.uuid4())

# Results go to the fanout exchange warren.results (the backend reads the shared queue of the same
# name). warren.results.by-id routes them on by their routing key, the task id: a private queue
# bound there with this task's id receives this task's results only. Bind before publishing.
results = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
channel.queue_bind(queue=results, exchange="warren.results.by-id", routing_key=task_id)

channel.basic_publish(
    exchange="warren.tasks",
    routing_key=queue,  # the queue name
    body=json.dumps({"task": "warren.echo", "args": {"from": "pika"}}),
    properties=pika.BasicProperties(
        content_type="application/json",
        delivery_mode=2,  # persistent
        message_id=task_id,  # the task id
        type="warren.echo",  # the task name
        headers={"x-warren-attempt": 1},
    ),
    mandatory=True,  # an unknown queue is an error, not a silent drop
)

for method, properties, body in channel.consume(results, inactivity_timeout=30):
    if method is None:
        sys.exit("no result within 30 s")
    channel.basic_ack(method.delivery_tag)
    result = json.loads(body)
    if result["status"] != "retrying":
        print(json.dumps(result, sort_keys=True))
        break
connection.close()
