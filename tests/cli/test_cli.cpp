// The shmkit command-line tool, run as a subprocess: output, JSON, exit codes, gc safety.
#if !defined(_WIN32)
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/version.hpp"
#include "shmkit/video.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::unique_name;
using json = nlohmann::json;

struct run_result {
    int code;
    std::string out;
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

run_result run(const std::string& arguments) {
#if defined(_WIN32)
    // cmd.exe /c drops the first and the last quote of a command that starts with one: the
    // whole command is quoted once more, so that the quoted path of the tool survives.
    const std::string command = "\"\"" + std::string(SHMKIT_CLI_PATH) + "\" " + arguments + " 2>&1\"";
    FILE* p = ::_popen(command.c_str(), "r");
#else
    const std::string command = std::string(SHMKIT_CLI_PATH) + " " + arguments + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
#endif
    run_result r{-1, ""};
    if (p == nullptr) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
#if defined(_WIN32)
    r.code = ::_pclose(p);  // the tool's exit code itself (an NTSTATUS if it crashed)
#else
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
    // A sanitizer's report exits with 1, which the CLI also uses for "not a valid segment":
    // tests that accept 1 must still see the report as a failure.
    if (contains(r.out, "Sanitizer") || contains(r.out, "runtime error:")) r.code = -2;
    return r;
}

// The JSON a command printed (its whole output: these commands write nothing to stderr when they
// succeed); a test failure, and null, if it is not JSON.
json run_json(const std::string& arguments) {
    const auto r = run(arguments);
    EXPECT_EQ(r.code, 0) << arguments << "\n" << r.out;
    try {
        return json::parse(r.out);
    } catch (const json::exception& e) {
        ADD_FAILURE() << arguments << ": not JSON (" << e.what() << "):\n" << r.out;
        return json::object();
    }
}

// The row of `ls --json` (or `ls --all --json`) named `name`, or an empty object.
json row_named(const json& rows, const std::string& name) {
    if (!rows.is_array()) return json::object();
    for (const json& row : rows) {
        if (row.is_object() && row.value("name", "") == name) return row;
    }
    return json::object();
}

TEST(Cli, EveryCommandHasHelp) {
    for (const char* cmd : {"ls", "info", "rm", "gc", "demo"}) {
        const auto r = run(std::string(cmd) + " --help");
        EXPECT_EQ(r.code, 0) << cmd;
        EXPECT_TRUE(contains(r.out, std::string("usage: shmkit ") + cmd)) << r.out;
    }
    EXPECT_EQ(run("--help").code, 0);
}

// The version the project sets once (CMakeLists.txt), as the C++ macro has it.
TEST(Cli, VersionIsTheProjectVersion) {
    const auto r = run("--version");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind(std::string("shmkit ") + SHMKIT_VERSION_STRING + " (wire format ", 0), 0u) << r.out;
}

TEST(Cli, UsageErrorsAndFailuresHaveDistinctExitCodes) {
    EXPECT_EQ(run("").code, 2);
    for (const char* bad : {"--seconds nan", "--seconds inf", "--rate inf", "--rate -1", "--size 1e300"}) {
        const auto r = run(std::string("demo ") + bad);
        EXPECT_EQ(r.code, 2) << bad;
        const std::string option = std::string(bad).substr(0, std::string(bad).find(' '));
        EXPECT_TRUE(contains(r.out, option + ": wants a number from 0 to 1e12")) << r.out;  // the bad option is named
    }
    EXPECT_EQ(run("frobnicate").code, 2);
    EXPECT_EQ(run("info").code, 2);
    EXPECT_EQ(run("info shmkit-test-missing-segment").code, 1);  // a name without its '/' is a name
    EXPECT_EQ(run("info /shmkit-test-missing-segment").code, 1);
    EXPECT_EQ(run("rm /shmkit-test-missing-segment").code, 1);
    EXPECT_EQ(run("demo --size 8").code, 2);
    for (const char* bad : {"ls --bogus", "info --fo /x", "gc --forse", "demo --rat 5", "rm --now /x"}) {
        const auto r = run(bad);
        EXPECT_EQ(r.code, 2) << bad;
        const std::string option = std::string(bad).substr(std::string(bad).find(' ') + 1);
        EXPECT_TRUE(contains(r.out, option.substr(0, option.find(' ')))) << r.out;  // the unknown option is named
    }
}

// The name rules are stated where a name breaks them, and every command taking a name says so.
TEST(Cli, InvalidNamesAreUsageErrorsThatStateTheRules) {
    for (const char* command : {"info", "rm"}) {
        for (const std::string& bad : {std::string("a/b"), std::string("/a/b"), std::string("/"), std::string(".."),
                                       std::string(300, 'x')}) {
            const auto r = run(std::string(command) + " " + bad);
            EXPECT_EQ(r.code, 2) << command << " " << bad << "\n" << r.out;
            EXPECT_TRUE(contains(r.out, "invalid name")) << r.out;
            EXPECT_TRUE(contains(r.out, "optional leading '/' and then 1 to 254 bytes")) << r.out;
        }
    }
}

// `info x` is `info /x`, and so for rm: one vocabulary with the Python module.
TEST(Cli, NamesWorkWithOrWithoutTheirLeadingSlash) {
    unique_name name("cli-slash");
    auto w = broadcast_writer::create(name.c_str());
    ASSERT_TRUE(w);
    const std::string bare = name.c_str() + 1;
    const json with = run_json(std::string("info ") + name.c_str() + " --json");
    const json without = run_json("info " + bare + " --json");
    EXPECT_EQ(without.value("name", ""), name.c_str()) << without.dump();
    EXPECT_EQ(without.value("kind", ""), "broadcast");
    EXPECT_EQ(with.value("capacity", 0ull), without.value("capacity", 1ull));
    w = broadcast_writer{};
    EXPECT_EQ(run("rm " + bare).code, 0);
    EXPECT_FALSE(test::shm_exists(name.c_str()));
    EXPECT_EQ(run("rm " + bare).code, 1);
}

TEST(Cli, ListsAndDescribesABroadcastSegment) {
    unique_name name("cli");
    broadcast_config config;
    config.capacity = 8192;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->write("abc", 3), errc::ok);

    const json row = row_named(run_json("ls --json"), name.c_str());
    EXPECT_EQ(row.value("kind", ""), "broadcast") << row.dump();
    EXPECT_EQ(row.value("creator_pid", 0u), os::self().pid) << row.dump();
    EXPECT_EQ(row.value("alive", false), true) << row.dump();
    EXPECT_EQ(row.value("state", ""), "ready") << row.dump();

    const json info = run_json(std::string("info ") + name.c_str() + " --json");
    EXPECT_EQ(info.value("messages", 0), 1) << info.dump();
    EXPECT_EQ(info.value("capacity", 0), 8192) << info.dump();
    EXPECT_EQ(info.value("writer_alive", false), true) << info.dump();

    auto text = run(std::string("info ") + name.c_str());
    EXPECT_TRUE(contains(text.out, "kind") && contains(text.out, "broadcast")) << text.out;

    EXPECT_EQ(run(std::string("rm ") + name.c_str()).code, 0);
    EXPECT_EQ(run(std::string("info ") + name.c_str()).code, 1);
}

TEST(Cli, InfoShowsEveryKindsCounters) {
    unique_name q("cli-spsc"), c("cli-cmd"), b("cli-block");
    auto producer = spsc_producer::create(q.c_str());
    ASSERT_TRUE(producer);
    ASSERT_EQ(producer->try_push("x", 1), errc::ok);
    auto reader = command_reader::create(c.c_str());
    ASSERT_TRUE(reader);
    auto blk = block::create(b.c_str());
    ASSERT_TRUE(blk);
    const json spsc = run_json(std::string("info ") + q.c_str() + " --json");
    EXPECT_TRUE(spsc.value("pushed", 0) == 1 && spsc.value("producer_alive", false)) << spsc.dump();
    const json cmd = run_json(std::string("info ") + c.c_str() + " --json");
    EXPECT_TRUE(cmd.value("abandoned_claims", 1) == 0 && cmd.value("reader_alive", false)) << cmd.dump();
    const json blo = run_json(std::string("info ") + b.c_str() + " --json");
    EXPECT_TRUE(blo.value("reader_slots", 0) == 64 && blo.value("slots_in_use", 0) == 1) << blo.dump();

    unique_name st("cli-stream"), vi("cli-video"), kvn("cli-kv");
    stream_config sc;
    sc.type = dtype::float32;
    sc.ndim = 2;
    sc.shape[0] = 64;
    sc.shape[1] = 4;
    auto sw = stream_writer::create(st.c_str(), sc);
    ASSERT_TRUE(sw);
    auto vw = video_writer::create(vi.c_str(), video_config{});
    ASSERT_TRUE(vw);
    const char* keys[] = {"mode"};
    auto kv = kv_store::create(kvn.c_str(), keys, 1);
    ASSERT_TRUE(kv);
    ASSERT_EQ(kv->set("mode", "x", 1), errc::ok);
    const json so = run_json(std::string("info ") + st.c_str() + " --json");
    EXPECT_TRUE(so.value("dtype", "") == "float32" && so.value("shape", json()) == json({64, 4})) << so.dump();
    const json vo = run_json(std::string("info ") + vi.c_str() + " --json");
    EXPECT_TRUE(vo.value("pixel_format", "") == "RGB24" && vo.value("width", 0) == 640) << vo.dump();
    const json ko = run_json(std::string("info ") + kvn.c_str() + " --json");
    EXPECT_TRUE(ko.value("epoch", 0) == 1 && ko.value("keys", 0) == 1) << ko.dump();
}

// Creates two broadcasts and exits: their creator is dead.
SHMKIT_TEST_ROLE(cli_gc_creator) {
    auto a = broadcast_writer::create(args.text(0).c_str());
    auto b = broadcast_writer::create(args.text(1).c_str());
    return (a && b) ? 0 : 1;
}

TEST(Cli, GcRemovesOnlyAbandonedSegments) {
#if defined(_WIN32)
    GTEST_SKIP() << "on Windows a segment goes with the last process that holds it: a dead creator's "
                    "unused segment is gone before gc runs, and one in use is never removed";
#endif
    unique_name live("gc-live"), dead("gc-dead"), dead_in_use("gc-inuse");
    auto mine = broadcast_writer::create(live.c_str());
    ASSERT_TRUE(mine);
    child creator("cli_gc_creator", {dead.c_str(), dead_in_use.c_str()});
    ASSERT_EQ(creator.wait(), 0);
    auto user = broadcast_reader::open(dead_in_use.c_str());
    ASSERT_TRUE(user);

    auto dry = run("gc --dry-run");
    EXPECT_TRUE(contains(dry.out, std::string("would remove ") + dead.c_str())) << dry.out;
    EXPECT_FALSE(contains(dry.out, live.c_str()));

    auto gc = run("gc");
    EXPECT_EQ(gc.code, 0) << gc.out;
    EXPECT_TRUE(contains(gc.out, std::string("removed ") + dead.c_str())) << gc.out;
    EXPECT_TRUE(contains(gc.out, std::string("kept ") + dead_in_use.c_str())) << gc.out;
    EXPECT_FALSE(contains(gc.out, live.c_str())) << gc.out;
    EXPECT_TRUE(broadcast_reader::open(live.c_str()));
    EXPECT_EQ(broadcast_reader::open(dead.c_str()).error(), errc::not_found);
    EXPECT_TRUE(broadcast_reader::open(dead_in_use.c_str()));

    auto forced = run("gc --force");
    EXPECT_TRUE(contains(forced.out, std::string("removed ") + dead_in_use.c_str())) << forced.out;
    EXPECT_TRUE(broadcast_reader::open(live.c_str()));
}

// A half-made segment (named by its creator before it was finished, as another build or port
// may do) shows as "creating" while its creator holds it, and as "abandoned" once nobody does;
// gc removes only the abandoned one.
TEST(Cli, HalfMadeSegmentsAreShownAndAbandonedOnesCollected) {
#if defined(_WIN32)
    GTEST_SKIP() << "an object on Windows vanishes with its last handle: a half-made segment is never left "
                    "behind by a dead creator";
#else
    unique_name working("half-working"), abandoned("half-abandoned");
    test::half_made held(working.c_str(), 4096, kind::block, block_header_size);
    {
        test::half_made gone(abandoned.c_str(), 4096, kind::block, block_header_size, /*with_identity=*/false);
        gone.let_go();
    }
    const json ls = run_json("ls --json");
    EXPECT_EQ(row_named(ls, working.c_str()).value("state", ""), "creating") << ls.dump();
    EXPECT_EQ(row_named(ls, abandoned.c_str()).value("state", ""), "abandoned") << ls.dump();
    auto gc = run("gc");
    EXPECT_EQ(gc.code, 0) << gc.out;
    EXPECT_TRUE(contains(gc.out, std::string("removed ") + abandoned.c_str())) << gc.out;
    EXPECT_FALSE(contains(gc.out, std::string("removed ") + working.c_str())) << gc.out;
    EXPECT_FALSE(test::shm_exists(abandoned.c_str()));
    EXPECT_TRUE(test::shm_exists(working.c_str()));
#endif
}

#if !defined(_WIN32)
// Resizes the object `name` between `small` and `full` bytes: stage 1 once it has, until the
// test sets stage 2 (3: it could not open the object).
SHMKIT_TEST_ROLE(cli_resizer) {
    auto stage = test::shared<std::atomic<int>>::open(args.text(1));
    const auto small = args.value<std::uint64_t>(2);
    const auto full = args.value<std::uint64_t>(3);
    const int fd = ::shm_open(args.text(0).c_str(), O_RDWR, 0);
    if (fd < 0) {
        stage->store(3);
        return 1;
    }
    for (std::uint64_t i = 0; stage->load() != 2; ++i) {
        if (::ftruncate(fd, static_cast<off_t>(i % 2 == 0 ? small : full)) != 0) return 2;
        if (i == 0) stage->store(1);
    }
    return 0;
}

// Runs `info` (and `ls`) `runs` times on `name` while another process keeps resizing the
// object between `small` and `full` bytes: each run reports the segment or an error (exit 0 or
// 1), never dies of SIGBUS or a sanitizer's report.
void info_survives_resizing(const char* name, std::uint64_t small, std::uint64_t full, int runs) {
    test::shared<std::atomic<int>> stage;
    child resizer("cli_resizer", {name, stage.name(), test::arg(small), test::arg(full)});
    test::spin_until([&] { return stage->load() != 0; });  // resizing before the first run
    ASSERT_EQ(stage->load(), 1) << "the resizer could not open " << name;
    for (int i = 0; i < runs; ++i) {
        const auto r = run(std::string("info ") + name + " --json");
        ASSERT_TRUE(r.code == 0 || r.code == 1) << "run " << i << ": exit " << r.code << "\n" << r.out;
        const auto ls = run("ls");
        ASSERT_EQ(ls.code, 0) << ls.out;
    }
    stage->store(2);
    EXPECT_EQ(resizer.wait(), 0);
}
#else
// Why the two tests below skip on Windows.
constexpr const char resizing_is_posix_only[] =
    "a Windows section cannot be shrunk or regrown under its users: there is no truncation to survive";
#endif

// The operator's cleanup tool survives segments shrinking under it: info on a block that
// another process keeps truncating reports an error or the segment, never dies of SIGBUS.
TEST(Cli, InfoSurvivesASegmentTruncatedUnderIt) {
#if defined(_WIN32)
    GTEST_SKIP() << resizing_is_posix_only;
#else
    unique_name name("cli-truncated");
    block_config config;
    config.size = 1 << 20;
    config.reader_slots = 4096;
    auto b = block::create(name.c_str(), config);
    ASSERT_TRUE(b);
    info_survives_resizing(name.c_str(), 4096, block::segment_size(config), 60);
#endif
}

// A segment that grows between the CLI's two reads of it (its first bytes, then as much as its
// header says it needs) must not make the CLI read past the copy it sized from the first read:
// a broadcast cut to 200 bytes says its control block reaches byte 320. (Seen as a heap
// overflow under ASan before the second read was bounded by the size first seen.)
TEST(Cli, InfoSurvivesASegmentGrowingUnderIt) {
#if defined(_WIN32)
    GTEST_SKIP() << resizing_is_posix_only;
#else
    unique_name name("cli-growing");
    broadcast_config config;
    config.capacity = 1 << 16;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    info_survives_resizing(name.c_str(), 200, broadcast_writer::segment_size(config), 60);
#endif
}

TEST(Cli, DemoRunsAndCleansUp) {
    auto r = run("demo --seconds 0.3 --rate 20000");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "0 torn/out of order")) << r.out;
    EXPECT_TRUE(contains(r.out, "removed; ok")) << r.out;
}

// A shared-memory object whose name is not UTF-8 (any bytes but '/' and NUL are a valid name on
// Linux): `ls --all --json` stays valid JSON, shows the name with \xNN escapes and gives its
// bytes in name_hex.
TEST(Cli, ListsNamesThatAreNotUtf8AsValidJson) {
#if defined(_WIN32)
    GTEST_SKIP() << "the Windows registry holds the names shmkit gave it, which are the caller's bytes; "
                    "no foreign objects are listed";
#else
    const std::string name = "/shmkit-test-\xff\xfe" + std::to_string(::getpid());
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0) << "cannot create the test object";
    ::close(fd);
    struct cleanup {
        const std::string& name;
        ~cleanup() { ::shm_unlink(name.c_str()); }
    } unlink_at_end{name};

    const json rows = run_json("ls --all --json");
    const std::string shown = "/shmkit-test-\\xff\\xfe" + std::to_string(::getpid());
    const json row = row_named(rows, shown);
    EXPECT_EQ(row.value("state", ""), "foreign") << rows.dump();
    std::string hex;
    for (unsigned char c : name) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", c);
        hex += two;
    }
    EXPECT_EQ(row.value("name_hex", ""), hex) << row.dump();  // the exact bytes, back again
    const auto text = run("ls --all");
    EXPECT_EQ(text.code, 0);
    EXPECT_TRUE(contains(text.out, shown)) << text.out;
#endif
}

// Holds the broadcast `name` open as a reader until the test sets the stage to 2 (1: attached).
SHMKIT_TEST_ROLE(cli_segment_user) {
    auto stage = test::shared<std::atomic<int>>::open(args.text(1));
    auto r = broadcast_reader::open(args.text(0).c_str());
    if (!r) return 1;
    stage->store(1);
    test::spin_until([&] { return stage->load() == 2; });
    return 0;
}

// `info` names the processes that have the segment open (pid and command): on Linux from /proc,
// matched by the object's device and inode.
TEST(Cli, InfoShowsTheProcessesUsingTheSegment) {
    unique_name name("cli-users");
    auto w = broadcast_writer::create(name.c_str());
    ASSERT_TRUE(w);
    test::shared<std::atomic<int>> stage;
    child user("cli_segment_user", {name.c_str(), stage.name()});
    test::spin_until([&] { return stage->load() != 0; });
    const json info = run_json(std::string("info ") + name.c_str() + " --json");
    const auto text = run(std::string("info ") + name.c_str());
    stage->store(2);
    EXPECT_EQ(user.wait(), 0);
#if defined(_WIN32)
    EXPECT_TRUE(info.contains("users") && info["users"].is_null()) << info.dump();
    EXPECT_TRUE(contains(text.out, "unknown (not available")) << text.out;
#else
    ASSERT_TRUE(info.contains("users") && info["users"].is_array()) << info.dump();
    bool found_child = false, found_self = false;
    for (const json& u : info["users"]) {
        const auto pid = u.value("pid", 0u);
        if (pid == user.pid()) {
            found_child = true;
            EXPECT_TRUE(u.value("open", false) && u.value("mapped", false)) << u.dump();
            EXPECT_FALSE(u.value("command", "").empty()) << u.dump();
        }
        found_self = found_self || pid == os::self().pid;
    }
    EXPECT_TRUE(found_child) << info.dump();
    EXPECT_TRUE(found_self) << info.dump();  // the writer, this test
    EXPECT_TRUE(info.contains("uninspected_processes") && info["uninspected_processes"].is_number()) << info.dump();
    EXPECT_TRUE(contains(text.out, std::to_string(user.pid()) + " ")) << text.out;
#endif
}

#if !defined(_WIN32)
// The child processes of `parent` (from /proc/<pid>/stat).
std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) return out;
    while (const dirent* e = ::readdir(d)) {
        const std::string stat_path = std::string("/proc/") + e->d_name + "/stat";
        FILE* f = std::fopen(stat_path.c_str(), "r");
        if (f == nullptr) continue;
        char line[1024] = {};
        const bool read = std::fgets(line, sizeof line, f) != nullptr;
        std::fclose(f);
        const char* close = read ? std::strrchr(line, ')') : nullptr;  // the command may hold spaces
        char state = 0;
        int ppid = 0;
        if (close != nullptr && std::sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent) {
            out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
        }
    }
    ::closedir(d);
    return out;
}

// Waits up to a minute (a generous bound for a loaded machine) for `condition`.
template <class Condition>
bool eventually(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

void demo_stops_on(int signal_number) {
    const pid_t demo = ::fork();
    ASSERT_GE(demo, 0);
    if (demo == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::execl(SHMKIT_CLI_PATH, SHMKIT_CLI_PATH, "demo", "--seconds", "100000", "--rate", "1000", nullptr);
        ::_exit(127);
    }
    const std::string segment = "/shmkit-demo-" + std::to_string(demo);
    std::vector<pid_t> readers;
    const bool started = eventually([&] {
        readers = children_of(demo);
        return test::shm_exists(segment.c_str()) && test::shm_exists((segment + "-state").c_str()) && readers.size() == 2;
    });
    EXPECT_TRUE(started) << "the demo did not start its segment and two readers";
    ASSERT_EQ(::kill(demo, signal_number), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(demo, &status, 0), demo);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 128 + signal_number);
    EXPECT_FALSE(test::shm_exists(segment.c_str()));
    EXPECT_FALSE(test::shm_exists((segment + "-state").c_str()));
    for (pid_t reader : readers) {
        if (::kill(reader, 0) == 0) {
            ADD_FAILURE() << "reader " << reader << " still runs";
            ::kill(reader, SIGKILL);  // it holds the test's output open
        }
    }
    if (test::shm_exists(segment.c_str())) static_cast<void>(segment::remove(segment.c_str()));
}
#endif

// Ctrl-C (SIGINT) or SIGTERM ends the demo early: its readers exit and its segments go.
TEST(Cli, DemoRemovesItsSegmentOnSigint) {
#if defined(_WIN32)
    GTEST_SKIP() << "POSIX signals";
#else
    demo_stops_on(SIGINT);
#endif
}

TEST(Cli, DemoRemovesItsSegmentOnSigterm) {
#if defined(_WIN32)
    GTEST_SKIP() << "POSIX signals";
#else
    demo_stops_on(SIGTERM);
#endif
}

}  // namespace
}  // namespace shmkit
