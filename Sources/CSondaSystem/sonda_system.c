#include "sonda_system.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int sonda_alarm_open(int fds[3]) {
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event timer_event = {.events = EPOLLIN | EPOLLET, .data.fd = timer};
    /* Level-triggered and never read: once written, every epoll_wait returns at once. */
    struct epoll_event stop_event = {.events = EPOLLIN, .data.fd = stop};
    if (timer < 0 || stop < 0 || epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event) != 0 ||
        epoll_ctl(epoll, EPOLL_CTL_ADD, stop, &stop_event) != 0) {
        if (timer >= 0) close(timer);
        if (stop >= 0) close(stop);
        if (epoll >= 0) close(epoll);
        return -1;
    }
    fds[0] = timer;
    fds[1] = stop;
    fds[2] = epoll;
    return 0;
}

int sonda_timer_arm(int fd, int64_t deadline) {
    struct itimerspec value = {
        .it_interval = {0, 0},
        .it_value = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)},
    };
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &value, NULL);
}

void sonda_alarm_wait(int epoll) {
    struct epoll_event event;
    while (epoll_wait(epoll, &event, 1, -1) < 0 && errno == EINTR) {
    }
}

void sonda_alarm_stop(int stop) {
    uint64_t one = 1;
    while (write(stop, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

/* The Swift concurrency runtime's hook (stdlib/public/Concurrency), linked statically into the agent. */
extern const void *swift_task_enqueueGlobal_hook;

int sonda_set_global_enqueue_hook(const void *hook) {
    if (swift_task_enqueueGlobal_hook != NULL) return 0;
    swift_task_enqueueGlobal_hook = hook;
    return 1;
}
