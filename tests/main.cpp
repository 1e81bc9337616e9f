#include <gtest/gtest.h>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // "fast" death tests fork without re-executing the binary: under qemu-user a test cannot
    // exec another target binary, and every death test here runs single-threaded anyway.
    ::testing::GTEST_FLAG(death_test_style) = "fast";
    return RUN_ALL_TESTS();
}
