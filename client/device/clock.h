/* clock: the agent's time, in milliseconds of CLOCK_MONOTONIC (never jumps
 * with the wall clock), and the wall clock for decisions' generated_at. */
#ifndef SIPRESOLVER_AGENT_CLOCK_H_
#define SIPRESOLVER_AGENT_CLOCK_H_

#include <stdint.h>

int64_t clock_ms(void);
/* Wall clock: seconds and nanoseconds since the epoch. */
void clock_wall(int64_t* seconds, int32_t* nanos);

#endif /* SIPRESOLVER_AGENT_CLOCK_H_ */
