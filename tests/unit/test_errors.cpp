#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"

namespace shmkit {
namespace {

TEST(Errc, EveryCodeHasADistinctStableName) {
    std::set<std::string> names;
    for (int i = 0; i < errc_count; ++i) {
        const std::string name = to_string(static_cast<errc>(i));
        EXPECT_NE(name, "unknown") << i;
        EXPECT_TRUE(names.insert(name).second) << name;
        EXPECT_STRNE(explain(static_cast<errc>(i)), "unknown error") << name;
    }
    EXPECT_EQ(static_cast<int>(errc::schema_mismatch), errc_count - 1);  // the newest code is the last
    // Names are part of the interface (logs, the CLI, Python): pin a few.
    EXPECT_STREQ(to_string(errc::ok), "ok");
    EXPECT_STREQ(to_string(errc::timeout), "timeout");
    EXPECT_STREQ(to_string(errc::invalid_layout), "invalid_layout");
    EXPECT_STREQ(to_string(static_cast<errc>(250)), "unknown");
    EXPECT_STREQ(explain(static_cast<errc>(250)), "unknown error");
}

// One type for the sizes and counts the API reports: std::uint64_t (what the wire bounds to 32 bits
// may stay 32 bits inside). Sizes of memory in this process (a reservation's, a block's) are
// std::size_t, the type that indexes it.
static_assert(std::is_same_v<decltype(message_info::size), std::uint64_t>);
static_assert(std::is_same_v<decltype(message_info::lost), std::uint64_t>);
static_assert(std::is_same_v<decltype(message_view::size), std::uint64_t>);
static_assert(std::is_same_v<decltype(sample_info::size), std::uint64_t>);
static_assert(std::is_same_v<decltype(sample_info::lost), std::uint64_t>);
static_assert(std::is_same_v<decltype(kv_value_info::size), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<broadcast_reader>().pending_size()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<broadcast_reader>().max_message()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<broadcast_reader>().lost()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<broadcast_reader>().overruns()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<broadcast_writer>().max_message()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<spsc_consumer>().pending_size()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<spsc_producer>().max_message()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<command_reader>().pending_size()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<command_writer>().max_message()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<stream_reader>().pending_size()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<stream_reader>().lost()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<stream_reader>().overruns()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<kv_store>().pending_size()), std::uint64_t>);
static_assert(std::is_same_v<decltype(std::declval<kv_store>().max_value()), std::uint64_t>);

TEST(Result, HoldsValueOrError) {
    result<int> good = 7;
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(*good, 7);
    EXPECT_EQ(good.error(), errc::ok);
    result<int> bad = errc::timeout;
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error(), errc::timeout);
}

TEST(AssertHook, DefaultTraps) {
    EXPECT_DEATH({ SHMKIT_ASSERT(1 + 1 == 3); }, "contract violated: 1 \\+ 1 == 3");
}

TEST(AssertHook, CustomHandlerIsCalledWithTheExpression) {
    EXPECT_EXIT(
        {
            set_assert_handler([](const char* expr, const char*, int) {
                std::fprintf(stderr, "handler saw [%s]\n", expr);
                std::_Exit(42);
            });
            SHMKIT_ASSERT(false && "misuse");
        },
        ::testing::ExitedWithCode(42), "handler saw \\[false && \"misuse\"\\]");
}

TEST(AssertHook, ValueOfAnErrorResultIsAContractViolation) {
    EXPECT_DEATH(
        {
            result<int> bad = errc::empty;
            return static_cast<void>(*bad);
        },
        "contract violated");
}

TEST(Names, ValidationMatchesPosixRules) {
    EXPECT_EQ(validate_name("/ok"), errc::ok);
    EXPECT_EQ(validate_name("/a.b-c_d"), errc::ok);
    EXPECT_EQ(validate_name(nullptr), errc::invalid_argument);
    EXPECT_EQ(validate_name(""), errc::invalid_argument);
    EXPECT_EQ(validate_name("noslash"), errc::invalid_argument);
    EXPECT_EQ(validate_name("/"), errc::invalid_argument);
    EXPECT_EQ(validate_name("/a/b"), errc::invalid_argument);
    EXPECT_EQ(validate_name("/."), errc::invalid_argument);
    EXPECT_EQ(validate_name("/.."), errc::invalid_argument);
    std::string longest = "/" + std::string(254, 'x');
    EXPECT_EQ(validate_name(longest.c_str()), errc::ok);
    std::string too_long = "/" + std::string(255, 'x');
    EXPECT_EQ(validate_name(too_long.c_str()), errc::invalid_argument);
}

}  // namespace
}  // namespace shmkit
