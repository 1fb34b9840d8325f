/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entry point of every unit test program: `test_x` runs all its cases, `test_x NAME`
 * only the case named NAME (cmocka's test filter; a glob pattern is accepted too). The
 * test file's own main, compiled as dd_test_main, does the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dd_test_main.h"

/* The definition -Dmain=dd_test_main renames the test's main, not this one. */
#undef main

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return dd_test_main();
}
