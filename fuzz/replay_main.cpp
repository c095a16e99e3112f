// Runs files through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so
// the seed corpus is replayed by the normal test run. A property violation aborts.
// Usage: <target>_replay DIR_OR_FILE...   (fails if it finds no input at all)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  std::printf("%s (%zu bytes)\n", file.c_str(), bytes.size());
  std::fflush(stdout);  // so the input that aborts is the last one named
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
      std::vector<std::filesystem::path> files;
      if (std::filesystem::is_directory(argv[i])) {
        for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
          if (entry.is_regular_file()) files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
      } else {
        files.emplace_back(argv[i]);
      }
      for (const auto& file : files) {
        if (!replay(file)) return 1;
      }
      count += files.size();
    }
    if (count == 0) {
      std::fprintf(stderr, "no inputs to replay\n");
      return 1;
    }
    std::printf("replayed %zu inputs\n", count);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay: %s\n", e.what());
    return 1;
  }
}
