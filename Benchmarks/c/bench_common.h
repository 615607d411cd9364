/* Helpers shared by the C baselines in Benchmarks/c. */
#ifndef WARREN_BENCH_COMMON_H
#define WARREN_BENCH_COMMON_H

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Monotonic wall clock, seconds. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of this process. */
static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, int status) {
  fprintf(stderr, "%s: %s\n", what, amqp_error_string2(status));
  exit(1);
}

static void check_reply(const char *what, amqp_rpc_reply_t reply) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    fprintf(stderr, "%s failed (reply type %d)\n", what, reply.reply_type);
    exit(1);
  }
}

/* A logged-in connection as guest to vhost "/" (heartbeat 10 s). */
static amqp_connection_state_t open_connection(const char *host, int port) {
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t *socket = amqp_tcp_socket_new(conn);
  int status = amqp_socket_open(socket, host, port);
  if (status != AMQP_STATUS_OK) die("connect", status);
  check_reply("login", amqp_login(conn, "/", 0, 131072, 10, AMQP_SASL_METHOD_PLAIN, "guest", "guest"));
  return conn;
}

#endif
