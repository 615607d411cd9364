/*
 * Baseline for `scripts/bench worker`: the smallest correct worker pipeline in plain C over
 * librabbitmq — consume a task, publish a result with confirms, ack the task once the broker
 * confirmed its result — with no task catalog, no JSON parsing and no process management.
 *
 *   worker-bench-c run HOST PORT QUEUE N PREFETCH [RESULT_QUEUE]
 *   worker-bench-c preload HOST PORT QUEUE N [plain|attempt|stamped]   publish N warren.echo tasks (with confirms)
 *   worker-bench-c declare HOST PORT QUEUE...          declare plain durable queues (no arguments)
 *
 * With RESULT_QUEUE `reply-to:QUEUE`, each result goes to QUEUE (stored, as Warren stores every
 * result) and, by the CC header in the same publish, to the queue its task names in reply_to:
 * the worker side of `scripts/bench roundtrip`.
 *
 * Two settings in the environment measure what parts of a result cost the broker (docs/worker.md):
 * WARREN_BENCH_RESULT_BYTES=N pads each result body to N bytes (its `output`), and
 * WARREN_BENCH_RESULT_LIKE_WARREN=1 adds what Warren's results carry beyond this program's: the
 * `type` property (`warren.result`) and, on `warren.results`, the task id as routing key.
 *
 * Consumes N tasks from QUEUE on channel 1 (manual acks, PREFETCH), publishes a ~350-byte JSON
 * result per task on channel 2 (confirm mode), and acks on channel 1 with basic.ack(multiple) up
 * to the task whose result the broker last confirmed. Results go to the `warren.results` exchange,
 * or with RESULT_QUEUE through the default exchange straight to that queue: the minimum the job
 * needs, with no topology of Warren's. `preload ... plain` publishes through the default exchange
 * too; `preload ... attempt` adds the `x-warren-attempt` header every Warren publisher sends, and
 * `preload ... stamped` also `x-warren-published-ms`, from which a worker fills a result's
 * `published_at` (the two headers `warren publish` sent for a plain task), and `preload ...
 * published` that header alone (what Warren sends for a first attempt, x-warren-attempt absent
 * meaning 1). Prints one line: "worker <tasks> <wall seconds> <client cpu seconds>".
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"

/* Declares each queue durable, with no arguments. */
static int declare(amqp_connection_state_t conn, int count, char **queues) {
  amqp_channel_open(conn, 1);
  check_reply("channel.open", amqp_get_rpc_reply(conn));
  for (int i = 0; i < count; i++) {
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queues[i]), 0, 1, 0, 0, amqp_empty_table);
    check_reply("queue.declare", amqp_get_rpc_reply(conn));
  }
  return 0;
}

/* Publishes N warren.echo tasks to warren.tasks (or with `plain` through the default exchange),
   1000 unconfirmed at most; with `headers` 1 they carry x-warren-attempt, with 2 also the time
   they were published. */
static int preload(amqp_connection_state_t conn, const char *queue, long n, int plain, int headers) {
  amqp_bytes_t exchange = plain ? amqp_empty_bytes : amqp_cstring_bytes("warren.tasks");
  amqp_channel_open(conn, 1);
  check_reply("channel.open", amqp_get_rpc_reply(conn));
  amqp_confirm_select(conn, 1);
  check_reply("confirm.select", amqp_get_rpc_reply(conn));
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes("application/json");
  props.type = amqp_cstring_bytes("warren.echo");
  amqp_table_entry_t entries[2];
  if (headers > 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    entries[0].key = amqp_cstring_bytes("x-warren-attempt");
    entries[0].value.kind = AMQP_FIELD_KIND_I64;
    entries[0].value.value.i64 = 1;
    entries[1].key = amqp_cstring_bytes("x-warren-published-ms");
    entries[1].value.kind = AMQP_FIELD_KIND_I64;
    entries[1].value.value.i64 = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    /* 3: x-warren-published-ms alone, as Warren sends a first attempt. */
    props.headers.num_entries = headers == 3 ? 1 : headers;
    props.headers.entries = headers == 3 ? &entries[1] : entries;
  }
  char body[256], id[64];
  long sent = 0;
  uint64_t confirmed = 0;
  while ((long)confirmed < n) {
    while (sent < n && sent - (long)confirmed < 1000) {
      snprintf(id, sizeof id, "bench-%ld-%ld", (long)time(NULL), sent);
      int length = snprintf(body, sizeof body, "{\"task\":\"warren.echo\",\"args\":{\"n\":%ld}}", sent);
      props.message_id = amqp_cstring_bytes(id);
      amqp_bytes_t payload = {(size_t)length, body};
      int status = amqp_basic_publish(conn, 1, exchange, amqp_cstring_bytes(queue), 0, 0, &props, payload);
      if (status != AMQP_STATUS_OK) die("basic.publish", status);
      sent++;
    }
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame(conn, &frame);
    if (status != AMQP_STATUS_OK) die("wait for confirms", status);
    if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      confirmed = ((amqp_basic_ack_t *)frame.payload.method.decoded)->delivery_tag;
    } else if (frame.frame_type == AMQP_FRAME_METHOD) {
      fprintf(stderr, "worker-bench-c: preload refused (method 0x%08x)\n", frame.payload.method.id);
      return 1;
    }
    amqp_maybe_release_buffers(conn);
  }
  printf("preloaded %ld\n", n);
  return 0;
}

int main(int argc, char **argv) {
  if ((argc == 6 || argc == 7) && strcmp(argv[1], "preload") == 0) {
    const char *mode = argc == 7 ? argv[6] : "";
    return preload(open_connection(argv[2], atoi(argv[3])), argv[4], atol(argv[5]), strcmp(mode, "plain") == 0,
                   strcmp(mode, "stamped") == 0 ? 2 : strcmp(mode, "attempt") == 0 ? 1 : strcmp(mode, "published") == 0 ? 3 : 0);
  }
  if (argc >= 5 && strcmp(argv[1], "declare") == 0) {
    return declare(open_connection(argv[2], atoi(argv[3])), argc - 4, argv + 4);
  }
  if ((argc != 7 && argc != 8) || strcmp(argv[1], "run") != 0) {
    fprintf(stderr, "usage: %s run HOST PORT QUEUE N PREFETCH [RESULT_QUEUE] | preload HOST PORT QUEUE N [plain|attempt|stamped] | declare HOST PORT QUEUE...\n", argv[0]);
    return 2;
  }
  /* The results' exchange and routing key: Warren's results exchange, or a plain queue, or
     (`reply-to`) the queue each task names in its reply_to property. */
  amqp_bytes_t result_exchange = argc == 8 ? amqp_empty_bytes : amqp_cstring_bytes("warren.results");
  amqp_bytes_t result_key = argc == 8 ? amqp_cstring_bytes(argv[7]) : amqp_empty_bytes;
  int reply_to = argc == 8 && strncmp(argv[7], "reply-to:", 9) == 0;
  if (reply_to) result_key = amqp_cstring_bytes(argv[7] + 9);
  amqp_field_value_t cc_value = {.kind = AMQP_FIELD_KIND_UTF8};
  amqp_array_t cc_array = {1, &cc_value};
  amqp_table_entry_t cc_entry = {.key = amqp_cstring_bytes("CC"), .value = {.kind = AMQP_FIELD_KIND_ARRAY, .value.array = cc_array}};
  amqp_table_t cc_headers = {1, &cc_entry};
  const char *queue = argv[4];
  long n = atol(argv[5]);
  int prefetch = atoi(argv[6]);
  int status;
  amqp_connection_state_t conn = open_connection(argv[2], atoi(argv[3]));
  amqp_channel_open(conn, 1);
  check_reply("channel.open 1", amqp_get_rpc_reply(conn));
  amqp_channel_open(conn, 2);
  check_reply("channel.open 2", amqp_get_rpc_reply(conn));
  amqp_confirm_select(conn, 2);
  check_reply("confirm.select", amqp_get_rpc_reply(conn));
  amqp_basic_qos(conn, 1, 0, (uint16_t)prefetch, 0);
  check_reply("basic.qos", amqp_get_rpc_reply(conn));
  amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check_reply("basic.consume", amqp_get_rpc_reply(conn));

  /* delivery_tags[i] is the task whose result was publish i + 1. */
  uint64_t *delivery_tags = calloc((size_t)n + 1, sizeof *delivery_tags);
  long published = 0;
  uint64_t confirmed = 0;
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes("application/json");
  const char *pad_setting = getenv("WARREN_BENCH_RESULT_BYTES");
  long pad_to = pad_setting ? atol(pad_setting) : 0;
  const char *like_setting = getenv("WARREN_BENCH_RESULT_LIKE_WARREN");
  int like_warren = like_setting && strcmp(like_setting, "1") == 0;
  if (like_warren) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = amqp_cstring_bytes("warren.result");
  }
  size_t body_size = 1024 + (pad_to > 0 ? (size_t)pad_to : 0);
  char *body = malloc(body_size);
  char *output = malloc(body_size);
  memset(output, 'x', body_size);
  output[0] = 0;
  char id[256];
  double t0 = now(), c0 = cpu();
  while ((long)confirmed < n) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, NULL, 0);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
      amqp_bytes_t message_id = envelope.message.properties.message_id;
      size_t id_length = message_id.len < sizeof id - 1 ? message_id.len : sizeof id - 1;
      memcpy(id, message_id.bytes, id_length);
      id[id_length] = 0;
      static const char *format =
          "{\"attempt\":1,\"duration_ms\":0,\"error\":null,\"exit_code\":null,"
          "\"finished_at\":\"2026-01-01T00:00:00.000Z\",\"id\":\"%s\",\"output\":%s,"
          "\"queue\":\"%s\",\"result\":{},\"schedule\":null,\"scheduled_for\":null,"
          "\"started_at\":\"2026-01-01T00:00:00.000Z\",\"status\":\"succeeded\","
          "\"task\":\"warren.echo\",\"worker\":\"c\"}";
      const char *output_value = "null";
      if (pad_to > 0) {
        /* A string of x's long enough to make the body pad_to bytes. */
        int base = snprintf(NULL, 0, format, id, "\"\"", queue);
        long xs = pad_to > base ? pad_to - base : 0;
        output[0] = '"';
        memset(output + 1, 'x', (size_t)xs);
        output[xs + 1] = '"';
        output[xs + 2] = 0;
        output_value = output;
      }
      int length = snprintf(body, body_size, format, id, output_value, queue);
      props.correlation_id = amqp_cstring_bytes(id);
      if (like_warren && argc != 8) result_key = props.correlation_id;  /* routed by id, as Warren does */
      amqp_bytes_t payload = {(size_t)length, body};
      if (reply_to) {
        cc_value.value.bytes = envelope.message.properties.reply_to;
        props.headers = cc_headers;
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
      }
      status = amqp_basic_publish(conn, 2, result_exchange, result_key, 0, 0, &props, payload);
      if (status != AMQP_STATUS_OK) die("basic.publish", status);
      delivery_tags[published++] = envelope.delivery_tag;
      amqp_destroy_envelope(&envelope);
      continue;
    }
    if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION || reply.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
      fprintf(stderr, "worker-bench-c: consume failed (%d, %s)\n", reply.reply_type, amqp_error_string2(reply.library_error));
      return 1;
    }
    /* Not a delivery: a publisher confirm (or something fatal). */
    amqp_frame_t frame;
    status = amqp_simple_wait_frame(conn, &frame);
    if (status != AMQP_STATUS_OK) die("wait frame", status);
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      amqp_basic_ack_t *ack = frame.payload.method.decoded;
      /* RabbitMQ confirms in publish order, so a tag confirms everything before it too. */
      confirmed = ack->delivery_tag;
      status = amqp_basic_ack(conn, 1, delivery_tags[confirmed - 1], 1);
      if (status != AMQP_STATUS_OK) die("basic.ack", status);
    } else {
      fprintf(stderr, "worker-bench-c: unexpected method 0x%08x\n", frame.payload.method.id);
      return 1;
    }
  }
  double t1 = now(), c1 = cpu();
  printf("worker %ld %.6f %.6f\n", n, t1 - t0, c1 - c0);
  amqp_channel_close(conn, 2, AMQP_REPLY_SUCCESS);
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  free(delivery_tags);
  free(body);
  free(output);
  return 0;
}
