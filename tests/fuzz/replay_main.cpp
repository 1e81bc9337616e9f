// Runs a fuzz target's LLVMFuzzerTestOneInput over files, as a plain test in every build (any
// compiler, any sanitizer, under qemu-user): each argument is a file or a directory whose files
// are all replayed. libFuzzer is not needed. Fails if there was nothing to replay, so a wrong
// corpus path cannot pass silently; a defect shows up as a crash, a sanitizer report or a
// failed assert while the named input runs.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool read_file(const std::string& path, std::vector<std::uint8_t>* out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    out->clear();
    std::uint8_t chunk[65536];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) out->insert(out->end(), chunk, chunk + n);
    const bool ok = std::ferror(f) == 0;
    std::fclose(f);
    return ok;
}

// The regular files under `path` (itself, if it is one), sorted, so runs are reproducible.
bool collect(const std::string& path, std::vector<std::string>* files) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    if (!S_ISDIR(st.st_mode)) {
        files->push_back(path);
        return true;
    }
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return false;
    std::vector<std::string> found;
    while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string full = path + "/" + name;
        if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) found.push_back(full);
    }
    ::closedir(dir);
    std::sort(found.begin(), found.end());
    files->insert(files->end(), found.begin(), found.end());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        if (!collect(argv[i], &files)) {
            std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "replay: no inputs (usage: %s FILE_OR_DIRECTORY...)\n", argv[0]);
        return 1;
    }
    std::vector<std::uint8_t> data;
    for (const std::string& file : files) {
        if (!read_file(file, &data)) {
            std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
            return 1;
        }
        // Named before it runs: if it crashes, the last line says which input did it.
        std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), data.size());
        // A copy of exactly its size, so a read past the input's end is an ASan report here too.
        std::vector<std::uint8_t> exact(data);
        LLVMFuzzerTestOneInput(exact.data(), exact.size());
    }
    std::fprintf(stderr, "replay: %zu inputs, no failure\n", files.size());
    return 0;
}
