// The skeleton every role handle (writer, reader, producer, consumer, store, block) is built on:
// its state in one struct, the moves written once here, one path for create, open and attach
// (bind_to).
//
// A handle's `State` is a plain struct: the segment it maps, the pointers into it and the
// handle's private copies of the shared positions, each with its default, plus
//     void drop() noexcept;      // gives up what the handle holds (its role, its lock slot)
//                                // and unmaps; safe on a closed or moved-from state
// The moves are the compiler's member-wise moves of State (so no field can be forgotten), with
// the source left as a fresh State{} (closed) and the destination released first. A handle
// declares `friend handle;` so that bind_to() can reach its private bind().
#pragma once

#include <cstdint>

#include "shmkit/assert.hpp"
#include "shmkit/errc.hpp"

namespace shmkit::detail {

// A state may refuse to move for now: `bool movable() const noexcept`, false while something
// points at this handle (a writer's live reservation). Moving it then is a contract violation.
template <class State>
constexpr auto movable_now(const State& s, int) noexcept -> decltype(s.movable()) {
    return s.movable();
}
template <class State>
constexpr bool movable_now(const State&, long) noexcept {
    return true;
}

template <class State>
class handle : protected State {
public:
    handle() noexcept = default;
    handle(handle&& other) noexcept : State(checked(other)) { other.reset(); }
    handle& operator=(handle&& other) noexcept {
        if (this != &other) {
            SHMKIT_ASSERT(movable_now(static_cast<const State&>(other), 0));  // a reservation points at it
            State::drop();
            State::operator=(static_cast<State&&>(other));
            other.reset();
        }
        return *this;
    }
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() { State::drop(); }

    // Gives up the handle's role or lock slot and unmaps; a no-op on a closed handle.
    void close() noexcept {
        State::drop();
        reset();
    }

    // Removes the name of the segment this handle created or opened, if the name still refers
    // to it (the owner's last step: not_found if it was removed, or now names another segment).
    // Every process that has it open, this handle included, keeps using it. not_open for a
    // closed handle, or one over caller-given memory (which has no name).
    [[nodiscard]] errc unlink() noexcept { return State::segment_.unlink(); }

protected:
    // The one path for create, open and attach: a closed Handle takes the segment just created
    // or opened (or its error), then binds over its memory with Handle::bind(base, size, args...).
    // On an error the half-bound handle is released on the way out.
    template <class Handle, class Segment, class... Args>
    static result<Handle> bind_to(result<Segment>&& mapped, const Args&... args) noexcept {
        if (!mapped) return mapped.error();
        Handle h;
        h.segment_ = static_cast<result<Segment>&&>(mapped).value();
        const errc e = h.bind(h.segment_.base(), h.segment_.size(), args...);
        if (failed(e)) return e;
        return h;
    }
    // The same over caller-given memory (no segment to own).
    template <class Handle, class... Args>
    static result<Handle> bind_to(void* memory, std::uint64_t size, const Args&... args) noexcept {
        Handle h;
        const errc e = h.bind(static_cast<std::uint8_t*>(memory), size, args...);
        if (failed(e)) return e;
        return h;
    }

private:
    void reset() noexcept { static_cast<State&>(*this) = State{}; }
    static State&& checked(handle& other) noexcept {
        SHMKIT_ASSERT(movable_now(static_cast<const State&>(other), 0));  // a reservation points at it
        return static_cast<State&&>(other);
    }
};

}  // namespace shmkit::detail
