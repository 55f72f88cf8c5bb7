/* curl_floor [-x PROXY] URL COUNT CAFILE [GAP_MS [BURST]]
 *
 * The CPU floor for a probe: COUNT sequential GETs with one libcurl easy handle,
 * each on a fresh connection with a full TLS handshake (no reuse, no session
 * resumption), verifying against CAFILE; with GAP_MS, sleeping that long between transfers, as
 * a scheduler spaces probes (the CPU then pays cold caches on every probe); with BURST, sleeping
 * only after every BURST transfers, as the agent runs the probes due in one window; with -x, through
 * PROXY (curl's flag; without it, no proxy, whatever the environment says). Silent on success;
 * exit 1 on the first
 * failed transfer. Build: cc -O2 -o curl_floor curl_floor.c -lcurl
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t count_bytes(char *data, size_t size, size_t nmemb, void *userp) {
    (void)data;
    *(size_t *)userp += size * nmemb;
    return size * nmemb;
}

int main(int argc, char **argv) {
    const char *proxy = "";
    if (argc > 2 && strcmp(argv[1], "-x") == 0) {
        proxy = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s [-x PROXY] URL COUNT CAFILE [GAP_MS [BURST]]\n", argv[0]);
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    long gap_ms = argc >= 5 ? strtol(argv[4], NULL, 10) : 0;
    long burst = argc == 6 ? strtol(argv[5], NULL, 10) : 1;
    if (burst < 1) burst = 1;
    size_t bytes = 0;
    char errbuf[CURL_ERROR_SIZE];

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    CURL *h = curl_easy_init();
    if (!h) return 1;
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_PROXY, proxy);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(h, CURLOPT_CAINFO, argv[3]);
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    for (long i = 0; i < count; i++) {
        if (gap_ms > 0 && i > 0 && i % burst == 0) usleep((useconds_t)(gap_ms * 1000));
        errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK) {
            fprintf(stderr, "curl_floor: transfer %ld failed: (%d) %s\n", i + 1, (int)rc,
                    errbuf[0] ? errbuf : curl_easy_strerror(rc));
            return 1;
        }
        if (status >= 400) {
            fprintf(stderr, "curl_floor: transfer %ld failed: HTTP %ld\n", i + 1, status);
            return 1;
        }
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return bytes > 0 || count == 0 ? 0 : 1;
}
