#ifndef WARREN_CRABBITMQ_SHIM_H
#define WARREN_CRABBITMQ_SHIM_H

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#endif

#include <poll.h>

/// Logs in with SASL PLAIN. `amqp_login_with_properties` is variadic, which Swift cannot call,
/// so this fixes its variadic part to the two PLAIN credentials.
amqp_rpc_reply_t warren_amqp_login_plain(amqp_connection_state_t state,
                                         const char *vhost,
                                         int channel_max,
                                         int frame_max,
                                         int heartbeat_seconds,
                                         const amqp_table_t *client_properties,
                                         const char *user,
                                         const char *password);

/// Makes a TLS socket trust the system's default certificate store (used when no CA file is given).
/// Returns 1 on success, 0 on failure.
int warren_ssl_use_default_verify_paths(amqp_socket_t *socket);

/// poll(2) with a timeout in nanoseconds (negative: wait indefinitely), via ppoll.
int warren_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns);

/// Names the calling thread (at most 15 bytes are kept), for top -H, perf and debuggers.
void warren_set_current_thread_name(const char *name);

/// Creates an eventfd (non-blocking, close-on-exec) used to wake an I/O thread's poll.
int warren_eventfd(void);

/// Why a TCP connection to host:port fails: tries each address within timeout_ms and returns
/// 0 when one connects (it is closed at once), the errno of the last failure (ECONNREFUSED,
/// ETIMEDOUT, EHOSTUNREACH, …) otherwise, or -1 when the name does not resolve. librabbitmq
/// reports every such failure as "a socket error occurred".
int warren_tcp_probe(const char *host, int port, int timeout_ms);

#endif
