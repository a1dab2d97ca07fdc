/*
 * NAME
 *	lsanexit - LeakSanitizer's check when policy-milter leaves through _exit()
 * SYNOPSIS
 *	linked into build/soak/policy-milter-lsan with -Wl,--wrap=_exit
 *	(tests/soak/lsan-daemon.mk; ASan+UBSan objects of tests/milter/asan-daemon.mk)
 * DESCRIPTION
 *	policy-milter's main() ends with _exit() (libmilter's threads still
 *	run; exit handlers must not run under them), so LeakSanitizer's own
 *	check, an atexit handler, never runs and a leak would go unreported.
 *	The link redirects that call here: the leak check runs first
 *	(__lsan_do_recoverable_leak_check: the other threads are stopped
 *	while it scans, so what they still hold counts as reachable), then
 *	the real _exit(), with status 23 when leaks were found.
 *
 *	Two lines on stderr bracket the check, so the soak test can tell a
 *	check that ran clean from one that never ran:
 *	    lsanexit: leak check at _exit(STATUS)
 *	    lsanexit: leak check done: no leaks | LEAKS
 *
 *	SOAK_LSAN_SELFTEST=1 in the environment plants a leak first (4321
 *	bytes, from a thread that ends, so no stack or register of a live
 *	thread still points at them): the test's proof that the check works
 *	in its world (pid namespace, a process that dropped root).
 */
#include <pthread.h>
#include <sanitizer/lsan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLANTED_BYTES 4321

void __real__exit(int status) __attribute__((noreturn));
void __wrap__exit(int status) __attribute__((noreturn));

/* lsanexit_planted_leak - allocate PLANTED_BYTES and lose the only pointer */
static void *lsanexit_planted_leak(void *arg)
{
	char *volatile p = malloc(PLANTED_BYTES);

	if (p != NULL)
		memset(p, 'L', PLANTED_BYTES);
	p = NULL;
	return arg;
}

void __wrap__exit(int status)
{
	const char *self = getenv("SOAK_LSAN_SELFTEST");
	pthread_t t;
	int leaks;

	if (self != NULL && strcmp(self, "1") == 0 &&
	    pthread_create(&t, NULL, lsanexit_planted_leak, NULL) == 0)
		pthread_join(t, NULL);
	fprintf(stderr, "lsanexit: leak check at _exit(%d)\n", status);
	fflush(stderr);
	leaks = __lsan_do_recoverable_leak_check();
	fprintf(stderr, "lsanexit: leak check done: %s\n", leaks ? "LEAKS" : "no leaks");
	fflush(stderr);
	__real__exit(leaks ? 23 : status);
}
