/*
 * Baseline client for `scripts/bench roundtrip`: one task in flight at a time, published with
 * confirms, its result read from the client's own reply queue; the round trip ends when both the
 * confirm and the result are in. With `worker-bench-c run ... reply-to` on the other side, this is
 * the smallest correct request/response over RabbitMQ.
 *
 *   roundtrip-bench-c HOST PORT QUEUE N WARMUP [warren]
 *
 * With `warren` the task goes to `warren.tasks` (key QUEUE) and the reply queue is bound to the
 * `warren.results` exchange instead: this client against `warren worker`, to tell the worker's
 * share of a round trip from the client's.
 *
 * Declares an exclusive server-named reply queue, consumes it (no acks), then for each of
 * WARMUP + N tasks publishes a persistent warren.echo task through the default exchange to QUEUE
 * with reply_to = the reply queue and waits. Prints "roundtrip N P50_US P99_US MAX_US CPU_US"
 * over the last N (CPU_US: the client's CPU per round trip).
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6 && !(argc == 7 && strcmp(argv[6], "warren") == 0)) {
    fprintf(stderr, "usage: %s HOST PORT QUEUE N WARMUP [warren]\n", argv[0]);
    return 2;
  }
  const char *queue = argv[3];
  int warren = argc == 7;
  long n = atol(argv[4]), warmup = atol(argv[5]);
  amqp_connection_state_t conn = open_connection(argv[1], atoi(argv[2]));
  amqp_channel_open(conn, 1);
  check_reply("channel.open", amqp_get_rpc_reply(conn));
  amqp_confirm_select(conn, 1);
  check_reply("confirm.select", amqp_get_rpc_reply(conn));
  amqp_queue_declare_ok_t *declared = amqp_queue_declare(conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
  check_reply("queue.declare", amqp_get_rpc_reply(conn));
  amqp_bytes_t reply_queue = amqp_bytes_malloc_dup(declared->queue);
  if (warren) {
    amqp_queue_bind(conn, 1, reply_queue, amqp_cstring_bytes("warren.results"), amqp_empty_bytes, amqp_empty_table);
    check_reply("queue.bind", amqp_get_rpc_reply(conn));
  }
  amqp_bytes_t exchange = warren ? amqp_cstring_bytes("warren.tasks") : amqp_empty_bytes;
  amqp_basic_consume(conn, 1, reply_queue, amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
  check_reply("basic.consume", amqp_get_rpc_reply(conn));

  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_REPLY_TO_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes("application/json");
  props.type = amqp_cstring_bytes("warren.echo");
  props.reply_to = reply_queue;
  double *latencies = calloc((size_t)n, sizeof *latencies);
  char body[256], id[64];
  double cpu_start = 0;
  for (long i = 0; i < warmup + n; i++) {
    snprintf(id, sizeof id, "rt-%ld", i);
    int length = snprintf(body, sizeof body, "{\"task\":\"warren.echo\",\"args\":{\"n\":%ld}}", i);
    props.message_id = amqp_cstring_bytes(id);
    amqp_bytes_t payload = {(size_t)length, body};
    if (i == warmup) cpu_start = cpu();
    double start = now();
    int status = amqp_basic_publish(conn, 1, exchange, amqp_cstring_bytes(queue), 0, 0, &props, payload);
    if (status != AMQP_STATUS_OK) die("basic.publish", status);
    int confirmed = 0, answered = 0;
    while (!confirmed || !answered) {
      amqp_envelope_t envelope;
      amqp_maybe_release_buffers(conn);
      amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, NULL, 0);
      if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
        answered = 1;
        amqp_destroy_envelope(&envelope);
        continue;
      }
      if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION || reply.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
        fprintf(stderr, "roundtrip-bench-c: consume failed (%d)\n", reply.reply_type);
        return 1;
      }
      amqp_frame_t frame;
      status = amqp_simple_wait_frame(conn, &frame);
      if (status != AMQP_STATUS_OK) die("wait frame", status);
      if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) confirmed = 1;
    }
    if (i >= warmup) latencies[i - warmup] = (now() - start) * 1e6;
  }
  double cpu_used = cpu() - cpu_start;
  qsort(latencies, (size_t)n, sizeof *latencies, compare);
  long p99 = (long)(n * 0.99) - 1;
  printf("roundtrip %ld %.0f %.0f %.0f %.1f\n", n, latencies[(n - 1) / 2], latencies[p99 < 0 ? 0 : p99], latencies[n - 1], cpu_used / n * 1e6);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  return 0;
}
