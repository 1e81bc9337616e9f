// Handshake memory shared between a test and its children (child.hpp): a small named object
// holding one T, created by the test and opened by name in a child.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>

#include "shmkit/os.hpp"

namespace shmkit::test {

std::string unique_object_name(const char* tag);

template <class T>
class shared {
public:
    // Creates the object, value-initialises its T, and owns it (removed on destruction).
    shared() : name_(unique_object_name("shared")) {
        if (os::shm_create(name_.c_str(), sizeof(T), os::create_options{}, &mapping_) != errc::ok ||
            os::shm_link(mapping_, name_.c_str()) != errc::ok) {
            std::fprintf(stderr, "test::shared: cannot create %s\n", name_.c_str());
            std::abort();
        }
        value_ = new (mapping_.address) T();
        owner_ = true;
    }
    // Maps the object a test created, in a child: `shared<T>::open(args.text(i))`.
    static shared open(const std::string& name) { return shared(name); }

    ~shared() {
        if (owner_) {
            value_->~T();
            static_cast<void>(os::shm_unlink(name_.c_str()));
        }
        os::shm_close(&mapping_);
    }
    shared(shared&& o) noexcept : name_(std::move(o.name_)), mapping_(o.mapping_), value_(o.value_), owner_(o.owner_) {
        o.mapping_ = os::mapping{};
        o.value_ = nullptr;
        o.owner_ = false;
    }
    shared(const shared&) = delete;
    shared& operator=(const shared&) = delete;
    shared& operator=(shared&&) = delete;

    // Its name, to give to a child.
    const std::string& name() const { return name_; }
    T* operator->() const { return value_; }
    T& operator*() const { return *value_; }

private:
    explicit shared(const std::string& name) : name_(name) {
        if (os::shm_open(name_.c_str(), os::access::read_write, &mapping_) != errc::ok || mapping_.size < sizeof(T)) {
            std::fprintf(stderr, "test::shared: cannot open %s\n", name_.c_str());
            std::abort();
        }
        value_ = static_cast<T*>(mapping_.address);
    }
    std::string name_;
    os::mapping mapping_{};
    T* value_ = nullptr;
    bool owner_ = false;
};

}  // namespace shmkit::test
