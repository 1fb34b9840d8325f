/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Force-included into every unit test (CMakeLists.txt): the test's own `main` is renamed
 * dd_test_main, and dd_test_main.c's main selects one cmocka case by name (argv[1]) before
 * calling it, so that ctest registers each case as its own test (`ctest -R` runs one).
 */
#ifndef DD_TEST_MAIN_H
#define DD_TEST_MAIN_H
int dd_test_main(void);
#endif
