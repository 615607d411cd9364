#ifndef WARREN_CRABBITMQ_SHIM_H
#define WARREN_CRABBITMQ_SHIM_H

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#endif

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

/// Creates an eventfd (non-blocking, close-on-exec) used to wake an I/O thread's poll.
int warren_eventfd(void);

#endif
