#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tls_session {
  int fd;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt ca;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_ssl_config config;
  mbedtls_ssl_context ssl;
};

static const char* kAlpn[] = {"h2", NULL};

static void describe(int code, const char* what, char* error,
                     size_t error_size) {
#if defined(MBEDTLS_ERROR_C)
  char text[128];
  mbedtls_strerror(code, text, sizeof text);
  snprintf(error, error_size, "%s: %s", what, text);
#else
  snprintf(error, error_size, "%s: mbedTLS error -0x%04x", what,
           (unsigned)-code);
#endif
}

static int send_cb(void* ctx, const unsigned char* data, size_t len) {
  const ssize_t n = send(*(int*)ctx, data, len, MSG_NOSIGNAL);
  if (n >= 0) return (int)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int recv_cb(void* ctx, unsigned char* data, size_t len) {
  const ssize_t n = recv(*(int*)ctx, data, len, 0);
  if (n >= 0) return (int)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Reads the files into `s`; 0 or -1 with the reason. */
static int load(struct tls_session* s, const struct tls_files* files,
                char* error, size_t error_size) {
  int rc = mbedtls_x509_crt_parse_file(&s->ca, files->ca_file);
  if (rc != 0) {
    describe(rc, "--tls_ca_file", error, error_size);
    return -1;
  }
  if (!files->cert_file) return 0;
  rc = mbedtls_x509_crt_parse_file(&s->cert, files->cert_file);
  if (rc != 0) {
    describe(rc, "--tls_cert_file", error, error_size);
    return -1;
  }
  rc = mbedtls_pk_parse_keyfile(&s->key, files->key_file, NULL);
  if (rc != 0) {
    describe(rc, "--tls_key_file", error, error_size);
    return -1;
  }
  return 0;
}

static void init(struct tls_session* s) {
  s->fd = -1;
  mbedtls_entropy_init(&s->entropy);
  mbedtls_ctr_drbg_init(&s->drbg);
  mbedtls_x509_crt_init(&s->ca);
  mbedtls_x509_crt_init(&s->cert);
  mbedtls_pk_init(&s->key);
  mbedtls_ssl_config_init(&s->config);
  mbedtls_ssl_init(&s->ssl);
}

void tls_session_free(struct tls_session* s) {
  if (!s) return;
  mbedtls_ssl_free(&s->ssl);
  mbedtls_ssl_config_free(&s->config);
  mbedtls_pk_free(&s->key);
  mbedtls_x509_crt_free(&s->cert);
  mbedtls_x509_crt_free(&s->ca);
  mbedtls_ctr_drbg_free(&s->drbg);
  mbedtls_entropy_free(&s->entropy);
  free(s);
}

int tls_check_files(const struct tls_files* files, char* error,
                    size_t error_size) {
  struct tls_session* s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(error, error_size, "out of memory");
    return -1;
  }
  init(s);
  const int rc = load(s, files, error, error_size);
  tls_session_free(s);
  return rc;
}

struct tls_session* tls_session_new(const struct tls_files* files, int fd,
                                    const char* server_name, char* error,
                                    size_t error_size) {
  struct tls_session* s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(error, error_size, "out of memory");
    return NULL;
  }
  init(s);
  s->fd = fd;
  static const char kPersonal[] = "sipresolver-agent";
  int rc = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                                 (const unsigned char*)kPersonal,
                                 sizeof kPersonal - 1);
  if (rc != 0) {
    describe(rc, "seeding the random generator", error, error_size);
    goto fail;
  }
  if (load(s, files, error, error_size) != 0) goto fail;
  rc = mbedtls_ssl_config_defaults(&s->config, MBEDTLS_SSL_IS_CLIENT,
                                   MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) {
    describe(rc, "TLS configuration", error, error_size);
    goto fail;
  }
  mbedtls_ssl_conf_min_version(&s->config, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
  mbedtls_ssl_conf_authmode(&s->config, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&s->config, &s->ca, NULL);
  mbedtls_ssl_conf_rng(&s->config, mbedtls_ctr_drbg_random, &s->drbg);
  mbedtls_ssl_conf_alpn_protocols(&s->config, kAlpn);
  if (files->cert_file) {
    rc = mbedtls_ssl_conf_own_cert(&s->config, &s->cert, &s->key);
    if (rc != 0) {
      describe(rc, "--tls_cert_file and --tls_key_file", error, error_size);
      goto fail;
    }
  }
  rc = mbedtls_ssl_setup(&s->ssl, &s->config);
  if (rc != 0) {
    describe(rc, "TLS session", error, error_size);
    goto fail;
  }
  /* The name the certificate must carry; also SNI, which mbedTLS leaves
   * out for an IP address. */
  rc = mbedtls_ssl_set_hostname(&s->ssl, server_name);
  if (rc != 0) {
    describe(rc, "TLS server name", error, error_size);
    goto fail;
  }
  mbedtls_ssl_set_bio(&s->ssl, &s->fd, send_cb, recv_cb, NULL);
  return s;
fail:
  tls_session_free(s);
  return NULL;
}

int tls_handshake(struct tls_session* s, char* error, size_t error_size) {
  const int rc = mbedtls_ssl_handshake(&s->ssl);
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return TLS_WANT_READ;
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return TLS_WANT_WRITE;
  if (rc != 0) {
    const uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0) {
      char info[256];
      mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
      info[strcspn(info, "\n")] = '\0';
      snprintf(error, error_size, "TLS: the server's certificate: %s", info);
    } else {
      describe(rc, "TLS handshake", error, error_size);
    }
    return TLS_ERROR;
  }
  const char* alpn = mbedtls_ssl_get_alpn_protocol(&s->ssl);
  if (!alpn || strcmp(alpn, "h2") != 0) {
    snprintf(error, error_size,
             "TLS: the server did not choose HTTP/2 (ALPN h2)");
    return TLS_ERROR;
  }
  return 0;
}

ssize_t tls_read(struct tls_session* s, uint8_t* data, size_t len) {
  const int rc = mbedtls_ssl_read(&s->ssl, data, len);
  if (rc >= 0) return rc;
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return TLS_WANT_READ;
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return TLS_WANT_WRITE;
  if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
  return TLS_ERROR;
}

ssize_t tls_write(struct tls_session* s, const uint8_t* data, size_t len) {
  const int rc = mbedtls_ssl_write(&s->ssl, data, len);
  if (rc >= 0) return rc;
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return TLS_WANT_READ;
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return TLS_WANT_WRITE;
  return TLS_ERROR;
}

size_t tls_pending(const struct tls_session* s) {
  return mbedtls_ssl_get_bytes_avail(&s->ssl);
}
