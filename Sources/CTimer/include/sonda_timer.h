#ifndef SONDA_TIMER_H
#define SONDA_TIMER_H

#include <stdint.h>

/* A blocking timerfd on CLOCK_MONOTONIC (Linux); -1 on failure. Swift's Glibc module leaves
 * sys/timerfd.h out. */
int sonda_timer_create(void);

/* Arms the timer to expire at `deadline` nanoseconds on CLOCK_MONOTONIC (absolute; a deadline in
 * the past expires at once, 0 disarms). Replaces any earlier deadline and pending expiry. */
int sonda_timer_arm(int fd, int64_t deadline);

/* Blocks until the timer expires. */
void sonda_timer_wait(int fd);

#endif
