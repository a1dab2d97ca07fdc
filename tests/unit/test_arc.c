/*
 * NAME
 *	test_arc - unit tests for arc.c (ARC chain validation)
 * DESCRIPTION
 *	A message without ARC header fields is arc=none; the result names.
 * DIAGNOSTICS
 *	cmocka; each failure prints "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/arc.h"
#include "util.h"

/* test_no_arc - no ARC header field: none, nothing looked up or verified */
static void test_no_arc(void **state)
{
	struct arc_verifier *v = arc_verify_new(NULL, "TEST");
	struct arc_result r;
	static const char body[] = "hello\r\n";

	(void)state;
	arc_verify_header(v, "From", " a@example.com");
	arc_verify_header(v, "Subject", " hi");
	arc_verify_eoh(v);
	arc_verify_body(v, (const unsigned char *)body, strlen(body));
	arc_verify_eom(v, &r);
	assert_int_equal(r.result, PM_ARC_NONE);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.verified, 0);
	assert_int_equal(r.lookups, 0);
	arc_result_free(&r);
	arc_verify_free(v);
}

/* test_names - the result names */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pm_arc_result_name(PM_ARC_NONE), "none");
	assert_string_equal(pm_arc_result_name(PM_ARC_PASS), "pass");
	assert_string_equal(pm_arc_result_name(PM_ARC_FAIL), "fail");
	assert_string_equal(pm_arc_result_name(PM_ARC_TEMPERROR), "temperror");
	assert_string_equal(pm_arc_result_name(PM_ARC_NRESULTS), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_arc),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
