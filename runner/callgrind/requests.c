/* Callgrind client requests for the pytest plugin beside this file.
 *
 * The requests are special instruction sequences that only valgrind
 * understands (a no-op on a real CPU), so they can only be issued from native
 * code: the runner compiles this file once per machine and the plugin calls it
 * through ctypes around each benchmark's measured calls.
 */
#include <valgrind/callgrind.h>

int bw_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }

/* Instrument from here on (switching is costly: valgrind drops its translations). */
void bw_instrument(void) { CALLGRIND_START_INSTRUMENTATION; }

/* Back to running uninstrumented, fast. */
void bw_uninstrument(void) { CALLGRIND_STOP_INSTRUMENTATION; }

/* Forget what was counted so far. */
void bw_zero(void) { CALLGRIND_ZERO_STATS; }

/* Write what was counted since bw_zero as a dump named `name`. */
void bw_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
