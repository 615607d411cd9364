#define _GNU_SOURCE
#include "CRabbitMQShim.h"
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <openssl/ssl.h>
#include <sys/eventfd.h>

amqp_rpc_reply_t warren_amqp_login_plain(amqp_connection_state_t state,
                                         const char *vhost,
                                         int channel_max,
                                         int frame_max,
                                         int heartbeat_seconds,
                                         const amqp_table_t *client_properties,
                                         const char *user,
                                         const char *password) {
  return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat_seconds,
                                    client_properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

int warren_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int warren_ssl_use_default_verify_paths(amqp_socket_t *socket) {
  SSL_CTX *context = (SSL_CTX *)amqp_ssl_socket_get_context(socket);
  return context != NULL && SSL_CTX_set_default_verify_paths(context) == 1;
}

int warren_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns) {
  if (timeout_ns < 0) return ppoll(fds, (nfds_t)count, NULL, NULL);
  struct timespec timeout = {timeout_ns / 1000000000LL, timeout_ns % 1000000000LL};
  return ppoll(fds, (nfds_t)count, &timeout, NULL);
}

void warren_set_current_thread_name(const char *name) {
  char truncated[16];
  strncpy(truncated, name, sizeof truncated - 1);
  truncated[sizeof truncated - 1] = 0;
  pthread_setname_np(pthread_self(), truncated);
}
