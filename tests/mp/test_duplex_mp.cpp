// duplex: request/response with several requests in flight, zero-copy handlers, and the death of
// either side (server death ends a client's call with peer_dead; a dead client's successor gets
// only its own responses).
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/duplex.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::unique_name;

std::string as_string(const message_view& v) { return std::string(reinterpret_cast<const char*>(v.data), v.size); }

// A duplex's name; both its channels are removed afterwards.
struct duplex_name {
    unique_name base;
    explicit duplex_name(const char* tag) : base(tag) {}
    ~duplex_name() {
        for (const char* suffix : {duplex_request_suffix, duplex_response_suffix}) {
            static_cast<void>(segment::remove((std::string(base.c_str()) + suffix).c_str()));
        }
    }
    const char* c_str() const { return base.c_str(); }
};

struct Duplex : ::testing::Test {
    duplex_name name{"duplex"};
};

TEST_F(Duplex, ACallGetsTheResponseToItsRequest) {
    auto server = duplex_server::create(name.c_str());
    ASSERT_TRUE(server) << to_string(server.error());
    auto client = duplex_client::open(name.c_str());
    ASSERT_TRUE(client) << to_string(client.error());
    EXPECT_TRUE(server->client_connected());
    EXPECT_TRUE(client->server_connected());
    std::thread t([&] {
        for (int i = 0; i < 100; ++i) {
            // Upper-cases the request in place in the response (zero-copy both ways).
            const errc e = server->serve_one([](const message_view& request, duplex_response& out) {
                std::uint8_t* p = out.reserve(request.size);
                if (p == nullptr) return;
                for (std::size_t j = 0; j < request.size; ++j) p[j] = static_cast<std::uint8_t>(std::toupper(request.data[j]));
                out.commit(request.size);
            });
            ASSERT_EQ(e, errc::ok);
        }
    });
    char buf[64];
    for (int i = 0; i < 100; ++i) {
        const std::string request = "request " + std::to_string(i);
        auto r = client->call(request.data(), request.size(), buf, sizeof buf);
        ASSERT_TRUE(r) << to_string(r.error());
        EXPECT_EQ(r->seq, static_cast<std::uint64_t>(i));
        EXPECT_EQ(std::string(buf, r->size), "REQUEST " + std::to_string(i));
    }
    t.join();
}

TEST_F(Duplex, SeveralRequestsInFlightAreMatchedWhateverOrderTheServerAnswersIn) {
    auto server = duplex_server::create(name.c_str());
    ASSERT_TRUE(server);
    auto client = duplex_client::open(name.c_str());
    ASSERT_TRUE(client);
    std::vector<std::uint64_t> seqs;
    for (int i = 0; i < 5; ++i) {
        const std::string request = "r" + std::to_string(i);
        auto seq = client->send_request(request.data(), request.size());
        ASSERT_TRUE(seq);
        seqs.push_back(*seq);
    }
    EXPECT_EQ(client->in_flight(), 5u);
    char scratch[8];
    EXPECT_EQ(client->call("x", 1, scratch, sizeof scratch).error(), errc::busy);
    // The server takes all five, then answers the last first.
    std::vector<std::pair<std::uint64_t, std::string>> taken;
    for (int i = 0; i < 5; ++i) {
        auto request = server->receive_request(std::chrono::seconds(30));
        ASSERT_TRUE(request);
        taken.emplace_back(request->seq, as_string(*request));
        server->release_request();
    }
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
        const std::string response = "answer to " + it->second;
        ASSERT_EQ(server->respond(it->first, response.data(), response.size()), errc::ok);
    }
    for (int i = 4; i >= 0; --i) {
        auto response = client->receive_response(std::chrono::seconds(30));
        ASSERT_TRUE(response);
        EXPECT_EQ(response->seq, seqs[static_cast<std::size_t>(i)]);
        EXPECT_EQ(as_string(*response), "answer to r" + std::to_string(i));
        client->release_response();
    }
    EXPECT_EQ(client->in_flight(), 0u);
}

// Serves requests by echoing them until it receives "die", then dies without answering.
SHMKIT_TEST_ROLE(duplex_server_that_dies) {
    channel_options options;
    options.liveness_period_ns = 20'000'000;
    auto server = duplex_server::create(args.text(0).c_str(), {}, options);
    if (!server) return 9;
    auto ready = test::shared<std::uint32_t>::open(args.text(1));
    __atomic_store_n(&*ready, 1u, __ATOMIC_RELEASE);
    for (;;) {
        auto request = server->receive_request();
        if (!request) return 1;
        if (as_string(*request) == "die") std::_Exit(0);
        if (server->respond(request->seq, request->data, request->size) != errc::ok) return 2;
        server->release_request();
    }
}

TEST(DuplexProcesses, AServerThatDiesEndsTheCallWithPeerDead) {
    duplex_name name("duplex-dead-server");
    test::shared<std::uint32_t> ready;
    child server("duplex_server_that_dies", {name.c_str(), ready.name()});
    test::spin_until([&] { return __atomic_load_n(&*ready, __ATOMIC_ACQUIRE) != 0; });
    channel_options options;
    options.liveness_period_ns = 20'000'000;
    auto client = duplex_client::open(name.c_str(), options);
    ASSERT_TRUE(client) << to_string(client.error());
    char buf[16];
    auto echoed = client->call("hello", 5, buf, sizeof buf);
    ASSERT_TRUE(echoed) << to_string(echoed.error());
    EXPECT_EQ(std::string(buf, echoed->size), "hello");
    // Waiting forever: only the server's death can end this call.
    EXPECT_EQ(client->call("die", 3, buf, sizeof buf).error(), errc::peer_dead);
    EXPECT_EQ(server.wait(), 0);
    EXPECT_FALSE(client->server_connected());
}

// Opens a client, sends a request and dies without reading its response.
SHMKIT_TEST_ROLE(duplex_client_that_dies) {
    auto client = duplex_client::open(args.text(0).c_str());
    if (!client) return 9;
    if (!client->send_request("orphan", 6)) return 1;
    std::_Exit(0);
}

TEST(DuplexProcesses, TheServerServesTheNextClientAfterOneDies) {
    duplex_name name("duplex-dead-client");
    auto server = duplex_server::create(name.c_str());
    ASSERT_TRUE(server);
    child dead("duplex_client_that_dies", {name.c_str()});
    EXPECT_EQ(dead.wait(), 0);
    // The orphan request is served; its response goes to nobody.
    auto request = server->receive_request(std::chrono::seconds(30));
    ASSERT_TRUE(request);
    EXPECT_EQ(as_string(*request), "orphan");
    ASSERT_EQ(server->respond(request->seq, "for the dead", 12), errc::ok);
    server->release_request();
    // A new client takes over; the server, waiting for requests, serves it.
    std::thread serving([&] {
        const errc e = server->serve_one([](const message_view& r, duplex_response& out) { out.write(r.data, r.size); },
                                         std::chrono::seconds(30));
        EXPECT_EQ(e, errc::ok);
    });
    auto client = duplex_client::open(name.c_str());
    ASSERT_TRUE(client) << to_string(client.error());
    char buf[32];
    auto r = client->call("mine", 4, buf, sizeof buf, std::chrono::seconds(30));
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(std::string(buf, r->size), "mine");  // not the dead client's response
    serving.join();
}

}  // namespace
}  // namespace shmkit
