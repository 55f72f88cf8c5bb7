/* curl_idle: the RSS floor of any libcurl prober on this machine. It loads libcurl (with all
 * of Debian's dependencies: OpenSSL, GnuTLS for rtmp, Kerberos, LDAP, ...), makes one easy
 * handle and sleeps. Build: cc -O2 -o curl_idle curl_idle.c -lcurl
 */
#include <curl/curl.h>
#include <unistd.h>

int main(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    CURL *h = curl_easy_init();
    if (!h) return 1;
    for (;;) pause();
}
