/*
 * Baseline for `scripts/bench amqp`: the same work as the Swift client's benchmark, written
 * directly against librabbitmq the way a careful C programmer would.
 *
 *   amqp-bench-c consume HOST PORT QUEUE N PREFETCH   consume N messages, manual acks
 *   amqp-bench-c publish HOST PORT QUEUE N WINDOW     publish N persistent 100-byte messages
 *                                                     with confirms, WINDOW unconfirmed at most
 *
 * Prints one line: "<mode> <messages> <wall seconds> <client cpu seconds>".
 * Consuming acknowledges with basic.ack(multiple) whenever the socket buffer is drained or
 * half the prefetch is unacknowledged.
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

/* A connection with channel 1 open. */
static amqp_connection_state_t open_channel_one(const char *host, int port) {
  amqp_connection_state_t conn = open_connection(host, port);
  amqp_channel_open(conn, 1);
  check_reply("channel.open", amqp_get_rpc_reply(conn));
  return conn;
}

static void consume(amqp_connection_state_t conn, const char *queue, long n, int prefetch) {
  amqp_basic_qos(conn, 1, 0, (uint16_t)prefetch, 0);
  check_reply("basic.qos", amqp_get_rpc_reply(conn));
  amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check_reply("basic.consume", amqp_get_rpc_reply(conn));
  double t0 = now(), c0 = cpu();
  long received = 0, unacked = 0;
  uint64_t last_tag = 0;
  while (received < n) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(conn);
    amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, NULL, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      fprintf(stderr, "amqp-bench-c: consume failed (%d, %s)\n", reply.reply_type, amqp_error_string2(reply.library_error));
      exit(1);
    }
    last_tag = envelope.delivery_tag;
    amqp_destroy_envelope(&envelope);
    received++;
    unacked++;
    if (unacked >= prefetch / 2 || received == n || (!amqp_data_in_buffer(conn) && !amqp_frames_enqueued(conn))) {
      int status = amqp_basic_ack(conn, 1, last_tag, 1);
      if (status != AMQP_STATUS_OK) die("basic.ack", status);
      unacked = 0;
    }
  }
  double t1 = now(), c1 = cpu();
  printf("consume %ld %.6f %.6f\n", received, t1 - t0, c1 - c0);
}

static void publish(amqp_connection_state_t conn, const char *queue, long n, long window) {
  amqp_confirm_select(conn, 1);
  check_reply("confirm.select", amqp_get_rpc_reply(conn));
  char body[100];
  memset(body, 'x', sizeof body);
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes("application/octet-stream");
  amqp_bytes_t payload = {sizeof body, body};
  double t0 = now(), c0 = cpu();
  long sent = 0;
  uint64_t confirmed = 0;
  struct timeval zero = {0, 0};
  while ((long)confirmed < n) {
    while (sent < n && sent - (long)confirmed < window) {
      int status = amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props, payload);
      if (status != AMQP_STATUS_OK) die("basic.publish", status);
      sent++;
    }
    /* Block only when the window is full (or everything is sent); otherwise just drain. */
    int must_wait = sent - (long)confirmed >= window || sent == n;
    for (;;) {
      amqp_frame_t frame;
      int status = amqp_simple_wait_frame_noblock(conn, &frame, must_wait ? NULL : &zero);
      if (status == AMQP_STATUS_TIMEOUT) break;
      if (status != AMQP_STATUS_OK) die("wait for confirms", status);
      if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        amqp_basic_ack_t *ack = frame.payload.method.decoded;
        confirmed = ack->multiple ? ack->delivery_tag : confirmed + 1;
      } else if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
        fprintf(stderr, "amqp-bench-c: publish nacked\n");
        exit(1);
      }
      must_wait = 0;
    }
    amqp_maybe_release_buffers(conn);
  }
  double t1 = now(), c1 = cpu();
  printf("publish %ld %.6f %.6f\n", n, t1 - t0, c1 - c0);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s consume|publish HOST PORT QUEUE N PREFETCH|WINDOW\n", argv[0]);
    return 2;
  }
  amqp_connection_state_t conn = open_channel_one(argv[2], atoi(argv[3]));
  amqp_queue_declare(conn, 1, amqp_cstring_bytes(argv[4]), 0, 1, 0, 0, amqp_empty_table);
  check_reply("queue.declare", amqp_get_rpc_reply(conn));
  if (strcmp(argv[1], "consume") == 0) {
    consume(conn, argv[4], atol(argv[5]), atoi(argv[6]));
  } else {
    publish(conn, argv[4], atol(argv[5]), atol(argv[6]));
  }
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  return 0;
}
