#include "sonda_system.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int sonda_timer_create(void) {
    return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
}

int sonda_timer_arm(int fd, int64_t deadline) {
    struct itimerspec value = {
        .it_interval = {0, 0},
        .it_value = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)},
    };
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &value, NULL);
}

void sonda_timer_wait(int fd) {
    uint64_t expirations;
    while (read(fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
    }
}

/* The Swift concurrency runtime's hook (stdlib/public/Concurrency), linked statically into the agent. */
extern const void *swift_task_enqueueGlobal_hook;

int sonda_set_global_enqueue_hook(const void *hook) {
    if (swift_task_enqueueGlobal_hook != NULL) return 0;
    swift_task_enqueueGlobal_hook = hook;
    return 1;
}

int sonda_random_bytes(void *buffer, size_t length) {
    size_t filled = 0;
    while (filled < length) {
        ssize_t got = getrandom((char *)buffer + filled, length - filled, 0);
        if (got > 0) {
            filled += (size_t)got;
        } else if (got == 0 || errno != EINTR) {
            return -1;
        }
    }
    return 0;
}
