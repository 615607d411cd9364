#define _GNU_SOURCE
#include "CRabbitMQShim.h"
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <openssl/ssl.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

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

int warren_tcp_probe(const char *host, int port, int timeout_ms) {
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints = {0}, *addresses = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, service, &hints, &addresses) != 0 || addresses == NULL) return -1;
  int failure = ETIMEDOUT;
  for (struct addrinfo *address = addresses; address != NULL; address = address->ai_next) {
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) { failure = errno; continue; }
    int result = connect(fd, address->ai_addr, address->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
      struct pollfd pending = {.fd = fd, .events = POLLOUT};
      int ready = poll(&pending, 1, timeout_ms);
      if (ready == 1) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        result = error == 0 ? 0 : -1;
        errno = error;
      } else {
        result = -1;
        errno = ETIMEDOUT;
      }
    }
    failure = result == 0 ? 0 : errno;
    close(fd);
    if (failure == 0) break;
  }
  freeaddrinfo(addresses);
  return failure;
}
