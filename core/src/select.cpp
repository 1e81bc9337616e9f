#include "shmkit/detail/wait.hpp"
#include "shmkit/select.hpp"

namespace shmkit {

result<std::size_t> select(const select_source* sources, std::size_t count, nanoseconds timeout,
                           wait_options options) noexcept {
    if (sources == nullptr || count == 0 || count > max_select_sources) return errc::invalid_argument;
    for (std::size_t i = 0; i < count; ++i) {
        // A closed handle's waitable() has no word.
        if (sources[i].word == nullptr) return errc::not_open;
        if (sources[i].ready == nullptr) return errc::invalid_argument;
    }
    // membarrier if any source's segment uses it (it is also a full fence for the others).
    barrier_mode mode = barrier_mode::fences;
    for (std::size_t i = 0; i < count; ++i) {
        if (sources[i].barriers == barrier_mode::membarrier) mode = barrier_mode::membarrier;
    }
    const std::uint64_t deadline = deadline_after(timeout);
    const std::uint32_t* words[max_select_sources];
    std::uint32_t seen[max_select_sources];
    std::uint32_t epochs[max_select_sources];
    const auto withdraw_all = [&] {
        for (std::size_t i = 0; i < count; ++i) detail::withdraw_wait(*sources[i].word, epochs[i]);
    };
    // Past the deadline: a last look, then timeout.
    const auto at_deadline = [&]() -> result<std::size_t> {
        for (std::size_t i = 0; i < count; ++i) {
            if (sources[i].ready(sources[i].context)) return i;
        }
        return errc::timeout;
    };
    for (;;) {
        for (std::size_t i = 0; i < count; ++i) {
            if (sources[i].ready(sources[i].context)) return i;
        }
        // Nothing ready: sleeping would announce on every word, which a source on a read-only
        // mapping refuses (the store would fault). A call that asked not to wait times out.
        for (std::size_t i = 0; i < count; ++i) {
            if (failed(sources[i].refusal)) return deadline == no_wait ? errc::timeout : sources[i].refusal;
        }
        // Announce ourselves on every word, then re-check: the same Dekker pairing as
        // wait_until (see wait.hpp), once per source.
        for (std::size_t i = 0; i < count; ++i) epochs[i] = detail::announce_wait(*sources[i].word);
        // The announcements before the re-checks below; pairs with notify_all's light barrier.
        heavy_barrier(mode);
        std::uint64_t sleep_until = deadline;
        std::size_t ready = count;
        bool healed = false;
        for (std::size_t i = 0; i < count && ready == count; ++i) {
            words[i] = &sources[i].word->sequence.raw;
            // Acquire: a notifier's bump of the sequence comes with its published state, and a
            // heal's bump with its new epoch (checked next, as in wait_until).
            seen[i] = sources[i].word->sequence.load(order::acquire);
            if (!detail::announcement_stands(*sources[i].word, epochs[i])) {
                healed = true;
                break;
            }
            if (sources[i].ready(sources[i].context)) ready = i;
            if (sources[i].recheck_after_ns != nullptr) {
                const std::uint64_t r = sources[i].recheck_after_ns(sources[i].context);
                if (r != 0) {
                    const std::uint64_t t = os::monotonic_ns() + r;
                    if (t < sleep_until) sleep_until = t;
                }
            }
        }
        if (healed) {  // an announcement was healed away: announce on every word again
            withdraw_all();
            // Unless the deadline passed: a peer that keeps changing an epoch must not keep
            // this loop from seeing it.
            if (os::monotonic_ns() >= deadline) return at_deadline();
            continue;
        }
        const std::uint64_t now = os::monotonic_ns();
        errc waited = errc::ok;
        if (ready == count && now < deadline) {
            const std::uint64_t span = sleep_until == os::forever ? os::forever : (sleep_until > now ? sleep_until - now : 0);
            waited = os::futex_wait_any(words, seen, static_cast<std::uint32_t>(count), span);
        }
        withdraw_all();
        if (ready != count) return ready;
        if (waited == errc::interrupted && options.return_on_signal) return waited;
        // A wait that failed outright would otherwise turn this loop into a spin.
        if (waited != errc::ok && waited != errc::timeout && waited != errc::interrupted) return waited;
        if (now >= deadline) return at_deadline();
    }
}

}  // namespace shmkit
