/* mbedTLS 2.28 configuration of the device agent (sipresolver-agent): a
 * TLS 1.2 client of sipresolverd (gRPC 1.51 on OpenSSL 3) that verifies the
 * server's chain from a PEM CA file and may present a client certificate.
 * Everything else is off. scripts/build-agent builds mbedTLS with
 * -DMBEDTLS_CONFIG_FILE pointing here, and client/device/CMakeLists.txt
 * compiles the agent with the same definition (the structures depend on it).
 * check_config.h (included last) rejects inconsistent combinations. */
#ifndef SIPRESOLVER_AGENT_MBEDTLS_CONFIG_H_
#define SIPRESOLVER_AGENT_MBEDTLS_CONFIG_H_

/* --- platform ------------------------------------------------------------ */
/* Inline assembly for bignum multiplication (x86-64, Arm): faster, not bigger.
 */
#define MBEDTLS_HAVE_ASM
/* time() for session timestamps. */
#define MBEDTLS_HAVE_TIME
/* gmtime_r(), so certificates' validity periods are checked. */
#define MBEDTLS_HAVE_TIME_DATE
/* fopen() for mbedtls_x509_crt_parse_file and mbedtls_pk_parse_keyfile. */
#define MBEDTLS_FS_IO
/* No MBEDTLS_PLATFORM_C: calloc/free/printf straight from the C library. */
/* Drop deprecated APIs so the agent cannot start using them. */
#define MBEDTLS_DEPRECATED_REMOVED

/* --- randomness ---------------------------------------------------------- */
/* Entropy from the platform source (getrandom() with glibc, /dev/urandom with
 * musl). */
#define MBEDTLS_ENTROPY_C
/* Only the platform source is registered (the default 20 slots are unused). */
#define MBEDTLS_ENTROPY_MAX_SOURCES 2
/* The DRBG that TLS and ECDSA signing draw from, seeded from the entropy pool.
 */
#define MBEDTLS_CTR_DRBG_C

/* --- symmetric crypto: AES-GCM only ----------------------------------------
 */
/* AES: the record cipher (GCM) and the CTR_DRBG block cipher. */
#define MBEDTLS_AES_C
/* AES tables as constants (no RAM, no generation code)... */
#define MBEDTLS_AES_ROM_TABLES
/* ...and one table per direction, rotated at run time (6 KiB smaller). */
#define MBEDTLS_AES_FEWER_TABLES
/* GCM: the only record protection of the four cipher suites below. */
#define MBEDTLS_GCM_C
/* The generic cipher layer the TLS record code goes through. */
#define MBEDTLS_CIPHER_C

/* --- hashes -----------------------------------------------------------------
 */
/* The generic message-digest layer (TLS PRF, HMAC, signatures). */
#define MBEDTLS_MD_C
/* SHA-256: the PRF of the *_SHA256 suites, certificate signatures. */
#define MBEDTLS_SHA256_C
/* The loop version of SHA-256: 1.4 KiB less code, a little slower. */
#define MBEDTLS_SHA256_SMALLER
/* SHA-384 (in the SHA-512 module): the PRF of the *_SHA384 suites, P-384
 * chains. */
#define MBEDTLS_SHA512_C
/* The loop version of SHA-512: 2 KiB less code, a little slower. */
#define MBEDTLS_SHA512_SMALLER
/* No SHA-1 or MD5: TLS 1.2 with these suites never needs them, and chains
 * signed with SHA-1 are not accepted. */

/* --- public-key crypto ------------------------------------------------------
 */
/* Big numbers, for RSA and elliptic curves. */
#define MBEDTLS_BIGNUM_C
/* Up to 4096-bit RSA keys (the default allows 8192 and sizes buffers for it).
 */
#define MBEDTLS_MPI_MAX_SIZE 512
/* Modular exponentiation with a small window: less heap for an RSA client
 * key's signature (once per handshake); RSA verification is unaffected. */
#define MBEDTLS_MPI_WINDOW_SIZE 2
/* Elliptic curves: ECDHE and ECDSA. */
#define MBEDTLS_ECP_C
/* NIST P-256: the usual server and client certificate curve. */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
/* NIST P-384: CAs and servers that use it. */
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
/* X25519: the key exchange OpenSSL prefers. */
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
/* Fast reduction modulo the NIST primes: much faster P-256/P-384 for
 * 1.8 KiB of code (armhf); handshakes on slow cores need it. */
#define MBEDTLS_ECP_NIST_OPTIM
/* A smaller comb window and no cached fixed-point tables: less heap
 * during a handshake for somewhat slower point multiplications. */
#define MBEDTLS_ECP_WINDOW_SIZE 4
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
/* ECDH: the ECDHE key exchange. */
#define MBEDTLS_ECDH_C
/* ECDSA: verifying EC server chains and signing with an EC client key
 * (random nonces from CTR_DRBG: no MBEDTLS_ECDSA_DETERMINISTIC, no HMAC_DRBG).
 */
#define MBEDTLS_ECDSA_C
/* RSA: verifying RSA server chains and signing with an RSA client key. */
#define MBEDTLS_RSA_C
/* PKCS#1 v1.5: the RSA signatures of TLS 1.2 and of X.509 certificates. */
#define MBEDTLS_PKCS1_V15
/* No PKCS#1 v2.1 (RSA-PSS): the 2.28 TLS 1.2 client never negotiates it;
 * a chain with RSASSA-PSS-signed certificates would not verify. */
/* The generic public-key layer over RSA and ECDSA keys. */
#define MBEDTLS_PK_C
/* Parsing keys: PKCS#1 and SEC1 (RSA/EC PRIVATE KEY) and unencrypted PKCS#8
 * (PRIVATE KEY). */
#define MBEDTLS_PK_PARSE_C

/* --- ASN.1, PEM, X.509 ------------------------------------------------------
 */
/* DER parsing for certificates and keys. */
#define MBEDTLS_ASN1_PARSE_C
/* DER writing: ECDSA signatures (CertificateVerify with an EC client key). */
#define MBEDTLS_ASN1_WRITE_C
/* OIDs of algorithms, curves and extensions. */
#define MBEDTLS_OID_C
/* PEM files (CA bundle, client certificate and key)... */
#define MBEDTLS_PEM_PARSE_C
/* ...which are base64. */
#define MBEDTLS_BASE64_C
/* Common X.509 code. */
#define MBEDTLS_X509_USE_C
/* Parsing and verifying certificate chains. */
#define MBEDTLS_X509_CRT_PARSE_C
/* Honour keyUsage and extendedKeyUsage (a CA's leaf for clients is no server).
 */
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* --- TLS --------------------------------------------------------------------
 */
/* The TLS layer, client side only (no MBEDTLS_SSL_SRV_C). */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
/* TLS 1.2 only: no SSL 3, TLS 1.0/1.1, DTLS. */
#define MBEDTLS_SSL_PROTO_TLS1_2
/* Forward-secret key exchanges with an ECDSA or an RSA server certificate. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/* The four suites, strongest first (also the ClientHello order). */
#define MBEDTLS_SSL_CIPHERSUITES                       \
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,     \
      MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,   \
      MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/* SNI: the server name in the ClientHello (virtual hosts, proxies). */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
/* ALPN: gRPC servers require "h2". */
#define MBEDTLS_SSL_ALPN
/* RFC 7627 extended master secret (OpenSSL offers it; closes triple handshake).
 */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* Alerts for every failure, so the server's log says why a handshake failed. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* No MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: the server's chain is freed after the
 * handshake (only a digest is kept), saving a few KiB per connection. */
/* No renegotiation, session tickets, session cache, context serialisation,
 * max fragment length, encrypt-then-MAC (CBC only), truncated HMAC. */
/* Incoming records up to the full 16 KiB: servers send full records and
 * OpenSSL does not have to honour a smaller limit. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
/* Outgoing records up to 4 KiB: the agent's messages are small; larger
 * writes are split into several records. */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* --- left out
 * ----------------------------------------------------------------- */
/* No MBEDTLS_ERROR_C: mbedtls_strerror() prints only the code (the dummy
 * below), saving the message tables; the agent logs codes in hex. */
#define MBEDTLS_ERROR_STRERROR_DUMMY
/* No PSA crypto, NET (the agent owns its sockets and poll loop), TIMING,
 * DEBUG, VERSION, SELF_TEST, CRL parsing, certificate or key writing,
 * PKCS#5/#12 (encrypted keys), CCM, ChaCha20-Poly1305, CBC, DES, ARC4. */

#include "mbedtls/check_config.h"

#endif /* SIPRESOLVER_AGENT_MBEDTLS_CONFIG_H_ */
