#include "shmkit/kv.hpp"

#include <cstring>

#include "shmkit/detail/copy.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/detail/sanitizers.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {
namespace {

std::uint64_t key_area(std::uint32_t max_key) noexcept { return round_up(max_key, 8); }

std::uint64_t stride_for(const kv_config& c) noexcept {
    return round_up(sizeof(kv_entry) + key_area(c.max_key) + round_up(c.max_value, 8), wire_line);
}

// Limits create() accepts and attach validates: one definition, so a store one side creates
// is never refused by the other.
constexpr std::uint32_t max_keys = 1'000'000;
constexpr std::uint32_t max_key_limit = 4096;
constexpr std::uint32_t max_value_limit = 1u << 30;

std::size_t c_length(const char* s, std::size_t limit) noexcept {
    std::size_t n = 0;
    while (n <= limit && s[n] != '\0') ++n;
    return n;
}

bool same_bytes(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}


errc map_kv(std::uint8_t* base, std::uint64_t size, kv_geometry* g, kv_control** control, std::uint8_t** entries) noexcept {
    if (!usable_memory(base)) return errc::invalid_argument;
    errc e = validate_header(base, size, static_cast<std::uint32_t>(kind::kv), kv_header_size);
    if (failed(e)) return e;
    const kv_geometry c = geometry_snapshot<kv_geometry>(base);
    bool reserved_clear = c.reserved0 == 0;
    for (int i = 0; i < 4; ++i) reserved_clear = reserved_clear && c.reserved1[i] == 0;
    kv_config cfg;
    cfg.max_key = c.max_key;
    cfg.max_value = c.max_value;
    if (!reserved_clear || c.key_count == 0 || c.key_count > max_keys || c.max_key == 0 || c.max_key > max_key_limit ||
        c.max_value > max_value_limit || c.entry_stride != stride_for(cfg) || c.entries_offset != kv_entries_offset ||
        size < kv_entries_offset || (size - kv_entries_offset) / c.entry_stride != c.key_count ||
        (size - kv_entries_offset) % c.entry_stride != 0) {
        return errc::invalid_layout;
    }
    // Key names and the lookup table are immutable after creation; bad values are corruption.
    for (std::uint32_t i = 0; i < c.key_count; ++i) {
        const auto* en = reinterpret_cast<const kv_entry*>(base + kv_entries_offset + std::uint64_t{i} * c.entry_stride);
        const std::uint32_t len = load_shared(&en->key_length, order::relaxed);
        if (len == 0 || len > c.max_key || load_shared(&en->bucket, order::relaxed) > c.key_count ||
            load_shared(&en->next_in_bucket, order::relaxed) > c.key_count) {
            return errc::invalid_layout;
        }
    }
    *g = c;
    *control = reinterpret_cast<kv_control*>(base + kv_control_offset);
    *entries = base + kv_entries_offset;
    return errc::ok;
}

}  // namespace

std::uint64_t kv_name_hash(const void* name, std::size_t length) noexcept { return fnv1a_64(name, length); }

errc inspect_kv(const void* base, std::uint64_t size, kv_info* out) noexcept {
    kv_geometry g;
    kv_control* c;
    std::uint8_t* entries;
    const errc e = map_kv(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, &g, &c, &entries);
    if (failed(e)) return e;
    out->key_count = g.key_count;
    out->max_key = g.max_key;
    out->max_value = g.max_value;
    out->epoch = c->epoch.load(order::acquire);
    out->recoveries = c->recoveries.load(order::relaxed);
    return errc::ok;
}

kv_entry& kv_store::entry(std::uint32_t index) const noexcept {
    return *reinterpret_cast<kv_entry*>(entries_ + std::uint64_t{index} * geometry_.entry_stride);
}
std::uint8_t* kv_store::key_bytes(std::uint32_t index) const noexcept {
    return entries_ + std::uint64_t{index} * geometry_.entry_stride + sizeof(kv_entry);
}
std::uint8_t* kv_store::value_bytes(std::uint32_t index) const noexcept {
    return key_bytes(index) + key_area(geometry_.max_key);
}

errc kv_store::bind(std::uint8_t* base, std::uint64_t size, const kv_options& options) noexcept {
    options_ = options;
    const errc e = map_kv(base, size, &geometry_, &control_, &entries_);
    if (e == errc::ok) barriers_ = barriers_of(base);
    return e;
}

namespace {

// The limits create() and format() accept, and the bytes of a store of `count` keys (0 if the
// configuration is refused).
std::uint64_t store_size(const char* const* keys, std::uint32_t count, const kv_config& config) noexcept {
    if (keys == nullptr || count == 0 || count > max_keys || config.max_key == 0 || config.max_key > max_key_limit ||
        config.max_value > max_value_limit) {
        return 0;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t len = c_length(keys[i], config.max_key);
        if (len == 0 || len > config.max_key) return 0;
    }
    return kv_entries_offset + stride_for(config) * count;
}

// Writes the geometry and the entries (names and the lookup table) of a zeroed store; the
// table also finds duplicate names in linear time (already_exists).
errc write_layout(std::uint8_t* base, const char* const* keys, std::uint32_t count, const kv_config& config) noexcept {
    const std::uint64_t stride = stride_for(config);
    auto* g = reinterpret_cast<kv_geometry*>(base + geometry_offset);
    g->key_count = count;
    g->max_key = config.max_key;
    g->max_value = config.max_value;
    g->entry_stride = stride;
    g->entries_offset = kv_entries_offset;
    std::uint8_t* const entries = base + kv_entries_offset;
    const auto entry_at = [&](std::uint64_t i) { return reinterpret_cast<kv_entry*>(entries + i * stride); };
    // Each key is checked against the keys already in its bucket before it joins it (at the front).
    for (std::uint32_t i = 0; i < count; ++i) {
        kv_entry* e = entry_at(i);
        std::uint8_t* key = reinterpret_cast<std::uint8_t*>(e) + sizeof(kv_entry);
        const std::size_t len = c_length(keys[i], config.max_key);
        e->key_length = static_cast<std::uint32_t>(len);
        std::memcpy(key, keys[i], len);
        kv_entry* head = entry_at(kv_name_hash(key, len) % count);
        for (std::uint32_t j = head->bucket; j != 0; j = entry_at(j - 1)->next_in_bucket) {
            const kv_entry* other = entry_at(j - 1);
            if (other->key_length == len && same_bytes(reinterpret_cast<const std::uint8_t*>(other) + sizeof(kv_entry), key, len)) {
                return errc::already_exists;
            }
        }
        e->next_in_bucket = head->bucket;
        head->bucket = i + 1;
    }
    return errc::ok;
}

}  // namespace

std::uint64_t kv_store::segment_size(const char* const* keys, std::uint32_t count, const kv_config& config) noexcept {
    const std::uint64_t size = store_size(keys, count, config);
    return size > max_segment_bytes ? 0 : size;
}

result<kv_store> kv_store::create(const char* name, const char* const* keys, std::uint32_t count,
                                  const kv_config& config, const kv_options& options) noexcept {
    const std::uint64_t size = store_size(keys, count, config);
    if (size == 0) return errc::invalid_argument;
    auto s = segment::create(name, kind::kv, kv_header_size, size, options.segment);
    if (!s) return s.error();
    // A duplicate name: the unpublished segment is discarded on return.
    if (const errc e = write_layout(s->base(), keys, count, config); failed(e)) return e;
    if (const errc published = s->publish(); failed(published)) return published;
    return bind_to<kv_store>(std::move(s), options);
}

result<kv_store> kv_store::format(void* memory, std::uint64_t size, const char* const* keys, std::uint32_t count,
                                  const kv_config& config, const kv_options& options) noexcept {
    if (!usable_memory(memory) || size == 0 ||
        size != segment_size(keys, count, config)) {
        return errc::invalid_argument;
    }
    auto* base = static_cast<std::uint8_t*>(memory);
    std::memset(base, 0, size);
    format_header(base, kind::kv, kv_header_size, size);
    if (const errc e = write_layout(base, keys, count, config); failed(e)) return e;
    publish_header(base);
    return attach(memory, size, options);
}

result<kv_store> kv_store::attach(void* memory, std::uint64_t size, const kv_options& options) noexcept {
    return bind_to<kv_store>(memory, size, options);
}

result<kv_store> kv_store::open(const char* name, const kv_options& options) noexcept {
    return bind_to<kv_store>(segment::open(name, kind::kv, kv_header_size, os::access::read_write, options.segment),
                             options);
}

result<std::uint32_t> kv_store::find(const char* key, std::size_t length) const noexcept {
    if (control_ == nullptr) return errc::not_open;
    // No stored name is longer (attach checked them), and a peer that rewrote a length since
    // must not make the comparison run past the key area.
    if (length > geometry_.max_key) return errc::not_found;
    // The chain is re-read from shared memory, where a peer could rewrite it: every index is
    // bounded, and the walk ends after key_count steps even if the chain was made a cycle.
    const std::uint32_t n = geometry_.key_count;
    std::uint32_t next = load_shared(&entry(static_cast<std::uint32_t>(kv_name_hash(key, length) % n)).bucket,
                                     order::relaxed);
    for (std::uint32_t steps = 0; next != 0 && next <= n && steps < n; ++steps) {
        const std::uint32_t i = next - 1;
        if (load_shared(&entry(i).key_length, order::relaxed) == length &&
            std::memcmp(key_bytes(i), key, length) == 0) {
            return i;
        }
        next = load_shared(&entry(i).next_in_bucket, order::relaxed);
    }
    return errc::not_found;
}

result<std::uint32_t> kv_store::find(const char* key) const noexcept {
    return find(key, c_length(key, geometry_.max_key));
}

const char* kv_store::key_name(std::uint32_t index, std::size_t* length) const noexcept {
    if (control_ == nullptr || index >= geometry_.key_count) return nullptr;
    // Bounded again: attach validated the length, but it lives in memory a peer can rewrite.
    const std::uint32_t stored = load_shared(&entry(index).key_length, order::relaxed);
    *length = stored <= geometry_.max_key ? stored : geometry_.max_key;
    return reinterpret_cast<const char*>(key_bytes(index));
}

errc kv_store::set(std::uint32_t index, const void* value, std::size_t size, nanoseconds timeout) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (index >= geometry_.key_count) return errc::out_of_range;
    if (size > geometry_.max_value) return errc::message_too_large;
    kv_entry& e = entry(index);
    const errc l = detail::lock(e.lock, barriers_, deadline_after(timeout), options_.lock);
    if (l == errc::owner_dead) {
        control_->recoveries.fetch_add(1, order::relaxed);  // its half-written value is replaced below
    } else if (failed(l)) {
        return l;
    }
    const std::uint64_t seq = e.seq.load(order::relaxed) | 1;  // odd (a dead writer may have left it odd)
    e.seq.store(seq, order::relaxed);
    // Release fence: the odd mark before the value's bytes, for readers' seqlock check.
    fence(order::release);
    // acq_rel: the ticket is taken after the key is marked odd, so changed_since() sees this
    // key as being written (or already stamped) whenever it sees an epoch that includes it.
    const std::uint64_t ticket = control_->epoch.fetch_add(1, order::acq_rel) + 1;
    copy_to_shared(value_bytes(index), value, size);
    e.value_length.store(static_cast<std::uint32_t>(size), order::relaxed);
    e.epoch.store(ticket, order::relaxed);
    // Release: the value, its length and epoch are complete before the even mark says so.
    e.seq.store(seq + 1, order::release);
    detail::unlock(e.lock, barriers_);
    notify_all(control_->wake, barriers_);
    return errc::ok;
}

errc kv_store::set(const char* key, const void* value, std::size_t size, nanoseconds timeout) noexcept {
    auto i = find(key);
    if (!i) return i.error();
    return set(*i, value, size, timeout);
}

result<kv_value_info> kv_store::get(std::uint32_t index, void* buffer, std::size_t capacity) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (index >= geometry_.key_count) return errc::out_of_range;
    const kv_entry& e = entry(index);
    for (std::uint32_t attempt = 0; attempt < options_.read_retries; ++attempt) {
        // Acquire: pairs with the writer's release of the even mark.
        const std::uint64_t before = e.seq.load(order::acquire);
        if (before & 1) {
            cpu_relax();
            continue;
        }
        SHMKIT_SPECULATIVE_READ_BEGIN();
        const std::uint32_t size = e.value_length.load(order::relaxed);
        const std::uint64_t epoch = e.epoch.load(order::relaxed);
        SHMKIT_SPECULATIVE_READ_END();
        if (epoch == 0) return errc::empty;  // never written (before stays 0 until the first write)
        if (size <= geometry_.max_value && size <= capacity) copy_from_shared(buffer, value_bytes(index), size);
        // Acquire fence: our loads of the value before the re-check of the sequence.
        fence(order::acquire);
        if (e.seq.load(order::relaxed) != before) continue;  // written meanwhile: try again
        if (size > geometry_.max_value) return errc::invalid_layout;
        if (size > capacity) {
            pending_size_ = size;
            return errc::message_too_large;
        }
        return kv_value_info{size, epoch};
    }
    return errc::stale;
}

result<kv_value_info> kv_store::get(const char* key, void* buffer, std::size_t capacity) noexcept {
    auto i = find(key);
    if (!i) return i.error();
    return get(*i, buffer, capacity);
}

std::uint64_t kv_store::epoch() const noexcept {
    return control_ == nullptr ? 0 : control_->epoch.load(order::acquire);
}

bool kv_store::changed_after(std::uint32_t index, std::uint64_t since) const noexcept {
    const kv_entry& e = entry(index);
    const bool writing = (e.seq.load(order::acquire) & 1) != 0;
    return writing || e.epoch.load(order::relaxed) > since;
}

result<std::uint32_t> kv_store::changed_since(std::uint64_t since, std::uint32_t* indices, std::uint32_t capacity,
                                              std::uint64_t* current) const noexcept {
    std::uint32_t n = 0;
    return for_each_changed(since, current, [&](std::uint32_t index) {
        if (n == capacity) return errc::message_too_large;  // a bigger array is needed
        indices[n++] = index;
        return errc::ok;
    });
}

errc kv_store::wait_change(std::uint64_t since, nanoseconds timeout) noexcept {
    if (control_ == nullptr) return errc::not_open;
    return wait_until(control_->wake, barriers_, [&] { return control_->epoch.load(order::acquire) > since; },
                      deadline_after(timeout), options_.wait);
}

select_source kv_store::waitable(std::uint64_t* since) noexcept {
    SHMKIT_ASSERT(since != nullptr);
    if (control_ == nullptr) return {};
    waiting_since_ = since;
    select_source s;
    s.word = &control_->wake;
    s.barriers = barriers_;
    s.ready = [](void* self) {
        auto* kv = static_cast<kv_store*>(self);
        return kv->control_->epoch.load(order::acquire) > *kv->waiting_since_;
    };
    s.context = this;
    return s;
}

}  // namespace shmkit
