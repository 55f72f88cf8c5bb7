#ifndef SONDA_SYSTEM_H
#define SONDA_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

/* The scheduler's alarm: a timerfd on CLOCK_MONOTONIC and a stop eventfd in one epoll set that
 * every idle worker waits on (Swift's Glibc module leaves sys/timerfd.h and sys/eventfd.h out).
 * Each expiry wakes one waiter (epoll waiters are exclusive, the timer edge-triggered); a stop
 * wakes every waiter, now and later. Fills fds with {timer, stop, epoll}; -1 on failure. */
int sonda_alarm_open(int fds[3]);

/* Arms the timer to expire at `deadline` nanoseconds on CLOCK_MONOTONIC (absolute; a deadline in
 * the past expires at once, 0 disarms). Replaces any earlier deadline and pending expiry. */
int sonda_timer_arm(int fd, int64_t deadline);

/* Blocks until the alarm's timer expires or it is stopped (or spuriously). */
void sonda_alarm_wait(int epoll);

/* Wakes every waiter of the alarm, now and from then on. */
void sonda_alarm_stop(int stop);

/* Sets the Swift runtime's swift_task_enqueueGlobal_hook: every job for the global concurrent
 * executor goes to `hook` instead of to libdispatch. `hook` is a Swift @convention(thin) function
 * (job, original) -> Void, as SwiftNIO installs its event loops. Returns 0 if a hook was set already. */
int sonda_set_global_enqueue_hook(const void *hook);

#endif
