/* tls: the agent's TLS client, on mbedTLS: TLS 1.2 or later, the server
 * verified against a CA file and a name (SNI and the certificate's), an
 * optional client certificate for mutual TLS, ALPN "h2" as gRPC requires.
 *
 * The files are read for every connection, so a renewed device certificate
 * or CA bundle is used from the next connection on without a restart;
 * tls_check_files reads them once at start, so bad files are a usage error,
 * not a silent fallback. Sessions run on a non-blocking socket. */
#ifndef SIPRESOLVER_AGENT_TLS_H_
#define SIPRESOLVER_AGENT_TLS_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_files {
  const char* ca_file;   /* Required for TLS. */
  const char* cert_file; /* Client certificate (PEM); NULL for none. */
  const char* key_file;  /* Its key (PEM, unencrypted). */
};

enum { TLS_WANT_READ = -2, TLS_WANT_WRITE = -3, TLS_ERROR = -1 };

struct tls_session;

/* 0, or -1 with a reason naming the file in `error`. */
int tls_check_files(const struct tls_files* files, char* error,
                    size_t error_size);

/* A client session on connected socket `fd` for `server_name` (checked
 * against the certificate and sent as SNI unless it is an IP address). NULL
 * with a reason in `error`. */
struct tls_session* tls_session_new(const struct tls_files* files, int fd,
                                    const char* server_name, char* error,
                                    size_t error_size);
/* 0 when the handshake is done (and the server chose "h2"), TLS_WANT_READ or
 * TLS_WANT_WRITE to be called again when the socket is ready, TLS_ERROR with
 * the reason in `error`. */
int tls_handshake(struct tls_session* s, char* error, size_t error_size);
/* Bytes read (> 0), 0 at the peer's close, TLS_WANT_*, or TLS_ERROR. */
ssize_t tls_read(struct tls_session* s, uint8_t* data, size_t len);
/* Bytes written (> 0), TLS_WANT_*, or TLS_ERROR. After TLS_WANT_*, call
 * again with the same bytes. */
ssize_t tls_write(struct tls_session* s, const uint8_t* data, size_t len);
/* Decrypted bytes waiting inside the session (poll() cannot see them). */
size_t tls_pending(const struct tls_session* s);
void tls_session_free(struct tls_session* s);

#endif /* SIPRESOLVER_AGENT_TLS_H_ */
