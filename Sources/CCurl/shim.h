// Non-variadic wrappers for libcurl's setopt/getinfo, which Swift cannot call directly,
// and the few OpenSSL calls Sonda needs to read a live TLS connection.
#ifndef SONDA_CCURL_SHIM_H
#define SONDA_CCURL_SHIM_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

// MARK: curl_easy_setopt

/// Tells OpenSSL not to free its global state in an exit handler: a thread still running as the
/// process exits (its thread-local OpenSSL state freed by a destructor at thread exit) then
/// touches nothing already freed. Must be OpenSSL's first initialisation in the process.
static inline int sonda_openssl_init_without_atexit(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

static inline CURLcode sonda_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sonda_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sonda_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sonda_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sonda_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}

typedef size_t (*sonda_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*sonda_prereq_callback)(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                                     int local_port);
typedef CURLcode (*sonda_ssl_ctx_callback)(CURL *curl, void *ssl_ctx, void *userptr);

static inline CURLcode sonda_setopt_write_function(CURL *h, sonda_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode sonda_setopt_header_function(CURL *h, sonda_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode sonda_setopt_prereq_function(CURL *h, sonda_prereq_callback f) {
    return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, f);
}
static inline CURLcode sonda_setopt_ssl_ctx_function(CURL *h, sonda_ssl_ctx_callback f) {
    return curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, f);
}

typedef int (*sonda_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

static inline CURLcode sonda_setopt_debug_function(CURL *h, sonda_debug_callback f) {
    return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, f);
}

// MARK: curl_easy_getinfo

static inline CURLcode sonda_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode sonda_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode sonda_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode sonda_getinfo_string(CURL *h, CURLINFO i, const char **v) {
    return curl_easy_getinfo(h, i, v);
}

/// The OpenSSL `SSL *` of the transfer's live connection, or NULL. Valid only while the
/// connection is open: inside a callback, or after perform with CURLOPT_CONNECT_ONLY.
static inline SSL *sonda_getinfo_ssl(CURL *h) {
    struct curl_tlssessioninfo *info = NULL;
    if (curl_easy_getinfo(h, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL) return NULL;
    if (info->backend != CURLSSLBACKEND_OPENSSL) return NULL;
    return (SSL *)info->internals;
}

// MARK: OpenSSL

static inline int sonda_ssl_ctx_new_index(void) {
    return CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, NULL);
}

/// The SSL connection a certificate-verification callback is running for.
static inline SSL *sonda_store_ctx_ssl(X509_STORE_CTX *ctx) {
    return (SSL *)X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
}

static inline const char *sonda_ssl_cipher_name(const SSL *ssl) {
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    return c ? SSL_CIPHER_standard_name(c) : NULL;
}

static inline int sonda_x509_stack_count(const STACK_OF(X509) *s) { return s ? sk_X509_num(s) : 0; }
static inline X509 *sonda_x509_stack_at(const STACK_OF(X509) *s, int i) { return sk_X509_value(s, i); }
static inline void sonda_x509_stack_free(STACK_OF(X509) *s) { sk_X509_pop_free(s, X509_free); }

/// Writes the subject (issuer != 0: the issuer) as an RFC 2253 string into buf; returns its length.
static inline int sonda_x509_name(X509 *x, int issuer, char *buf, int len) {
    X509_NAME *name = issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x);
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return 0;
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(bio, buf, len - 1);
    BIO_free(bio);
    if (n < 0) n = 0;
    buf[n] = 0;
    return n;
}

/// Writes the DNS and IP subject alternative names, one per line, into buf; returns its length.
static inline int sonda_x509_sans(X509 *x, char *buf, int len) {
    int used = 0;
    buf[0] = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!names) return 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char tmp[256];
        tmp[0] = 0;
        if (g->type == GEN_DNS) {
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            int l = ASN1_STRING_length(g->d.dNSName);
            if (l > 255) l = 255;
            memcpy(tmp, s, l);
            tmp[l] = 0;
        } else if (g->type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
            int l = ASN1_STRING_length(g->d.iPAddress);
            if (l == 4) {
                snprintf(tmp, sizeof tmp, "%d.%d.%d.%d", ip[0], ip[1], ip[2], ip[3]);
            } else if (l == 16) {
                int o = 0;
                for (int k = 0; k < 16; k += 2)
                    o += snprintf(tmp + o, sizeof tmp - o, k ? ":%x" : "%x", (ip[k] << 8) | ip[k + 1]);
            }
        }
        int l = (int)strlen(tmp);
        if (l == 0 || used + l + 2 > len) continue;
        if (used) buf[used++] = '\n';
        memcpy(buf + used, tmp, l);
        used += l;
        buf[used] = 0;
    }
    GENERAL_NAMES_free(names);
    return used;
}

/// notAfter (after != 0) or notBefore as Unix seconds.
static inline int64_t sonda_x509_validity(X509 *x, int after) {
    const ASN1_TIME *t = after ? X509_get0_notAfter(x) : X509_get0_notBefore(x);
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (int64_t)timegm(&tm);
}

/// SHA-256 of the certificate's DER (its fingerprint) into out[32].
static inline int sonda_x509_sha256(X509 *x, unsigned char *out) {
    unsigned int n = 0;
    return X509_digest(x, EVP_sha256(), out, &n);
}

/// SHA-1 of the certificate's DER into out[20]. OpenSSL computes it once, when it caches the
/// certificate's extensions (verification does), and X509_digest then copies it: a SHA-256 hashes
/// the whole DER again, some 25 K instructions a certificate.
static inline int sonda_x509_sha1(X509 *x, unsigned char *out) {
    unsigned int n = 0;
    return X509_digest(x, EVP_sha1(), out, &n);
}

/// SHA-256 of the DER SubjectPublicKeyInfo (what HPKP and curl's pinnedpubkey pin) into out[32].
static inline int sonda_x509_spki_sha256(X509 *x, unsigned char *out) {
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (len <= 0) return 0;
    unsigned int n = 0;
    int ok = EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL);
    OPENSSL_free(der);
    return ok;
}

/// Incremental SHA-256 for response bodies.
static inline EVP_MD_CTX *sonda_sha256_new(void) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c) EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    return c;
}
static inline void sonda_sha256_update(EVP_MD_CTX *c, const void *p, size_t n) { EVP_DigestUpdate(c, p, n); }
static inline void sonda_sha256_final(EVP_MD_CTX *c, unsigned char *out) {
    unsigned int n = 0;
    EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
}

// MARK: link emulation (resolver start, opensocket, sockopt)

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*sonda_resolver_start_callback)(void *resolver_state, void *reserved, void *userdata);
typedef curl_socket_t (*sonda_opensocket_callback)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);
typedef int (*sonda_sockopt_callback)(void *clientp, curl_socket_t fd, curlsocktype purpose);

static inline CURLcode sonda_setopt_resolver_start_function(CURL *h, sonda_resolver_start_callback f) {
    return curl_easy_setopt(h, CURLOPT_RESOLVER_START_FUNCTION, f);
}
static inline CURLcode sonda_setopt_opensocket_function(CURL *h, sonda_opensocket_callback f) {
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, f);
}
static inline CURLcode sonda_setopt_sockopt_function(CURL *h, sonda_sockopt_callback f) {
    return curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, f);
}

/// Opens a TCP connection to the address libcurl was about to connect to, waiting at most
/// timeout_ms. Returns the connected, blocking socket with TCP_NODELAY, or -1 with errno set.
static inline int sonda_connect_upstream(const struct curl_sockaddr *a, int timeout_ms) {
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) return -1;
    int flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, &a->addr, a->addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, timeout_ms);
        if (rc == 1) {
            int error = 0;
            socklen_t len = sizeof error;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            rc = error ? -1 : 0;
            if (error) errno = error;
        } else {
            if (rc == 0) errno = ETIMEDOUT;
            rc = -1;
        }
    }
    if (rc != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/// A listening socket on 127.0.0.1 with a free port (written to *port); -1 on failure.
static inline int sonda_loopback_listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/// Points the address libcurl is about to connect to at 127.0.0.1:port (libcurl's storage behind
/// `addr` is a sockaddr_storage, so an IPv6 address may be rewritten too).
static inline void sonda_point_at_loopback(struct curl_sockaddr *a, int port) {
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons((uint16_t)port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->family = AF_INET;
    a->addrlen = sizeof in;
    memcpy(&a->addr, &in, sizeof in);
}

/// The numeric IP of the address into buf ("" when unknown).
static inline void sonda_sockaddr_ip(const struct curl_sockaddr *a, char *buf, socklen_t len) {
    buf[0] = 0;
    if (a->family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->addr)->sin_addr, buf, len);
    if (a->family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->addr)->sin6_addr, buf, len);
}

/// A fresh unconnected socket for the address, for libcurl to connect itself (and fail as it would).
static inline int sonda_plain_socket(const struct curl_sockaddr *a) {
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

#include <signal.h>
extern int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);

/// Waits for fds with a nanosecond timeout (negative: forever); ppoll is not visible to Swift.
static inline int sonda_poll_ns(struct pollfd *fds, int count, int64_t timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, (nfds_t)count, NULL, NULL);
    struct timespec t = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    return ppoll(fds, (nfds_t)count, &t, NULL);
}

// MARK: client certificates (mTLS)

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/err.h>

/// What a TLS connection showed of client authentication, written by `sonda_watch_client_auth`'s
/// message callback while the handshake runs.
typedef struct {
    /// The server sent a CertificateRequest.
    int requested;
    /// The client's Certificate message held a certificate (not the empty list).
    int sent;
    /// The first alert the server sent other than close_notify (its description), or -1.
    int alert;
} sonda_client_auth;

static inline void sonda_client_auth_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                                         SSL *ssl, void *arg) {
    (void)ssl;
    sonda_client_auth *state = (sonda_client_auth *)arg;
    const unsigned char *b = (const unsigned char *)buf;
    if (!state || !b) return;
    if (content_type == SSL3_RT_HANDSHAKE && len >= 4) {
        if (!write_p && b[0] == SSL3_MT_CERTIFICATE_REQUEST) state->requested = 1;
        if (write_p && b[0] == SSL3_MT_CERTIFICATE) {
            // TLS 1.3 puts a request context (length byte + bytes) before the 3-byte list length.
            size_t at = 4;
            if (version == TLS1_3_VERSION) at += 1 + (len > 4 ? b[4] : 0);
            if (len >= at + 3) state->sent = ((b[at] << 16) | (b[at + 1] << 8) | b[at + 2]) > 0;
        }
    }
    if (content_type == SSL3_RT_ALERT && !write_p && len >= 2 && b[1] != SSL_AD_CLOSE_NOTIFY && state->alert < 0) {
        state->alert = b[1];
    }
}

/// Watches the context's connections for a certificate request, the client certificate going out,
/// and the server's alerts, into `state` (which must outlive the connection).
static inline void sonda_watch_client_auth(SSL_CTX *ctx, sonda_client_auth *state) {
    state->requested = 0;
    state->sent = 0;
    state->alert = -1;
    SSL_CTX_set_msg_callback(ctx, sonda_client_auth_msg);
    SSL_CTX_set_msg_callback_arg(ctx, state);
}

/// OpenSSL's long name of a TLS alert description ("unknown CA", "certificate required").
static inline const char *sonda_alert_name(int description) { return SSL_alert_desc_string_long(description); }

/// A passphrase callback that never prompts: the passphrase in `u`, or none (and *asked is set).
typedef struct {
    const char *passphrase;
    int asked;
} sonda_passphrase;

static inline int sonda_passphrase_callback(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    sonda_passphrase *p = (sonda_passphrase *)u;
    p->asked = 1;
    if (!p->passphrase) return 0;
    int n = (int)strlen(p->passphrase);
    if (n > size) n = size;
    memcpy(buf, p->passphrase, (size_t)n);
    return n;
}

/// The first certificate of a PEM file, or NULL.
static inline X509 *sonda_read_pem_certificate(const char *path) {
    BIO *bio = BIO_new_file(path, "rb");
    if (!bio) return NULL;
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return x;
}

/// A DER certificate file, or NULL.
static inline X509 *sonda_read_der_certificate(const char *path) {
    BIO *bio = BIO_new_file(path, "rb");
    if (!bio) return NULL;
    X509 *x = d2i_X509_bio(bio, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return x;
}

/// The private key of a PEM (or, failing that, DER) file. NULL with *asked set when it is
/// encrypted and the passphrase is missing or wrong; NULL with *asked clear when there is no key.
static inline EVP_PKEY *sonda_read_private_key(const char *path, const char *passphrase, int *asked) {
    sonda_passphrase p = {passphrase, 0};
    BIO *bio = BIO_new_file(path, "rb");
    if (!bio) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, sonda_passphrase_callback, &p);
    if (!key && !p.asked) {
        (void)BIO_reset(bio);
        key = d2i_PrivateKey_bio(bio, NULL);
    }
    BIO_free(bio);
    ERR_clear_error();
    *asked = p.asked;
    return key;
}

/// Reads a PKCS#12 file: 1 with its certificate and key, 0 when the file is no PKCS#12, -1 when
/// the passphrase does not open it.
static inline int sonda_read_pkcs12(const char *path, const char *passphrase, X509 **cert, EVP_PKEY **key) {
    BIO *bio = BIO_new_file(path, "rb");
    if (!bio) return 0;
    PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
    BIO_free(bio);
    if (!p12) {
        ERR_clear_error();
        return 0;
    }
    int ok = PKCS12_parse(p12, passphrase, key, cert, NULL);
    PKCS12_free(p12);
    ERR_clear_error();
    return ok ? 1 : -1;
}

/// Whether the key is the certificate's.
static inline int sonda_key_matches(X509 *cert, EVP_PKEY *key) {
    int ok = X509_check_private_key(cert, key);
    ERR_clear_error();
    return ok;
}

#endif
