#include <gtest/gtest.h>

#include "support/child.hpp"

int main(int argc, char** argv) {
    // A child started by test::child runs its role, never GoogleTest.
    int role_exit_code = 0;
    if (shmkit::test::run_role_if_asked(argc, argv, &role_exit_code)) return role_exit_code;
    ::testing::InitGoogleTest(&argc, argv);
#if !defined(_WIN32)
    // "fast" death tests fork without re-executing the binary: under qemu-user a test cannot
    // exec another target binary, and every death test here runs single-threaded anyway.
    ::testing::GTEST_FLAG(death_test_style) = "fast";
#endif
    return RUN_ALL_TESTS();
}
