/* tcp_nodelay.so: LD_PRELOAD into a server so that every connection it accepts has TCP_NODELAY
 * set, as nginx sets it and tinyproxy does not. bench/profile-fidelity.sh runs its tinyproxy with
 * it: without it, tinyproxy's 2 KB relay writes leave a TLS record's last segment to Nagle, held
 * until the client acknowledges the one before, a round trip on the reference's link; on the
 * emulated side the proxy's peer is the relay on loopback, which acknowledges at once, so that
 * round trip is the proxy's and not the link's (docs/performance.md, "Through a proxy").
 * bench/loopback-proxy.sh runs the probe-cost benchmarks' tinyproxy with it too: there the held
 * segment waits for the client's delayed acknowledgement, about 40 ms of every probe.
 * Build: cc -O2 -shared -fPIC -o tcp_nodelay.so tcp_nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static int nodelay(int fd) {
    int one = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* not TCP: harmless */
    return fd;
}

int accept(int fd, struct sockaddr *address, socklen_t *length) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    return nodelay(real(fd, address, length));
}

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    return nodelay(real(fd, address, length, flags));
}
