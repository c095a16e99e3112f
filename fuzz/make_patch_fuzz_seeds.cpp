// Writes the seed corpus of patch_fuzz: real patches made by the diff engine
// against the fixed old image, at every profile, each under 4 KiB.
//   make_patch_fuzz_seeds DIR           regenerate the seeds into DIR
//   make_patch_fuzz_seeds --check DIR   fail unless each seed this tool makes is in
//                                       DIR and still applies (a format change
//                                       makes them stale)
// Other files in DIR (inputs the fuzzer found, named regression_*) are left alone.
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "core/codec.h"
#include "core/host/file.h"
#include "delta/diff/diff.h"
#include "delta/patch/host/apply.h"
#include "fuzz/patch_fuzz_old_image.h"

namespace updraft::delta {
namespace {

using Bytes = std::vector<std::byte>;

struct Seed {
  const char* name;
  Profile profile;
  Bytes new_image;
  std::uint8_t format_version = kFormatVersion;
  std::optional<Arch> arch = Arch::kNone;  // forced: the old image has no vector table
};

std::vector<Seed> seeds() {
  const Bytes& old_image = patch_fuzz_old_image();
  Bytes edited = old_image;  // a constant changed every ~300 bytes, a block inserted
  for (std::size_t at = 100; at < edited.size(); at += 301) edited[at] ^= std::byte{0x21};
  edited.insert(edited.begin() + 2000, old_image.begin() + 100, old_image.begin() + 180);
  Bytes relocated = old_image;  // pointer-like words moved by +0x400
  for (std::size_t at = 1024; at < 2048; at += 4) {
    store_le32(relocated.data() + at, load_le32(relocated.data() + at) + 0x400);
  }
  Bytes literals(300);  // nothing to copy: literals only
  for (std::size_t i = 0; i < literals.size(); ++i) literals[i] = std::byte(i * 37 + 11);
  Bytes two_frames;  // crosses the first mcu-tiny frame boundary
  while (two_frames.size() < profile_info(Profile::kMcuTiny).params.frame_size + 700) {
    two_frames.insert(two_frames.end(), edited.begin(), edited.end());
    two_frames.back() = std::byte(two_frames.size());
  }
  return {
      {"identical_mcu_tiny", Profile::kMcuTiny, old_image},
      {"edited_mcu_tiny", Profile::kMcuTiny, edited},
      {"edited_mcu", Profile::kMcu, edited},
      {"edited_linux", Profile::kLinux, edited},
      {"relocated_mcu", Profile::kMcu, relocated},
      {"literals_linux", Profile::kLinux, literals},
      {"empty_new_mcu_tiny", Profile::kMcuTiny, {}},
      {"two_frames_mcu_tiny", Profile::kMcuTiny, two_frames},
      // Version 1 still applies, so the fuzzer keeps reaching its decoder.
      {"v1_edited_mcu_tiny", Profile::kMcuTiny, edited, 1},
      {"v1_relocated_mcu", Profile::kMcu, relocated, 1},
      {"v1_two_frames_mcu_tiny", Profile::kMcuTiny, two_frames, 1},
      // Relocation prediction: a relocation block and predicted old bytes.
      {"thumb2_relocated_mcu_tiny", Profile::kMcuTiny, relocated, kFormatVersion, Arch::kThumb2},
      {"thumb2_edited_linux", Profile::kLinux, edited, kFormatVersion, Arch::kThumb2},
  };
}

int generate(const std::string& dir) {
  for (const Seed& seed : seeds()) {
    DiffOptions options;
    options.profile = seed.profile;
    options.format_version = seed.format_version;
    options.arch = seed.arch;
    HostResult<Bytes> patch = make_patch(patch_fuzz_old_image(), seed.new_image, options);
    if (!patch.ok()) {
      std::fprintf(stderr, "%s: %s\n", seed.name, patch.error().to_string().c_str());
      return 1;
    }
    HostResult<Bytes> applied = apply_patch(patch_fuzz_old_image(), *patch);
    if (!applied.ok() || *applied != seed.new_image || patch->size() > 4096) {
      std::fprintf(stderr, "%s: does not apply, or is over 4 KiB (%zu bytes)\n", seed.name,
                   patch->size());
      return 1;
    }
    const Result<void, Error> written = write_file_atomic(dir + "/" + seed.name, *patch);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.error().to_string().c_str());
      return 1;
    }
    std::printf("%s: %zu bytes\n", seed.name, patch->size());
  }
  return 0;
}

int check(const std::string& dir) {
  int stale = 0, count = 0;
  for (const Seed& seed : seeds()) {
    ++count;
    const std::string path = dir + "/" + seed.name;
    HostResult<Bytes> patch = read_file(path);
    HostResult<Bytes> applied =
        patch.ok() ? apply_patch(patch_fuzz_old_image(), *patch) : HostResult<Bytes>(patch.error());
    if (!applied.ok() || *applied != seed.new_image) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(),
                   applied.ok() ? "applies to another image" : applied.error().to_string().c_str());
      ++stale;
    } else if (std::to_integer<std::uint8_t>((*patch)[4]) != seed.format_version) {
      std::fprintf(stderr, "%s: is format %d, not %d\n", path.c_str(),
                   std::to_integer<int>((*patch)[4]), seed.format_version);
      ++stale;
    }
  }
  if (stale > 0) {
    std::fprintf(stderr, "%d of %d seeds no longer apply: run make_patch_fuzz_seeds %s\n", stale,
                 count, dir.c_str());
    return 1;
  }
  std::printf("all %d seeds apply\n", count);
  return 0;
}

}  // namespace
}  // namespace updraft::delta

int main(int argc, char** argv) {
  try {
    if (argc == 2) return updraft::delta::generate(argv[1]);
    if (argc == 3 && std::string(argv[1]) == "--check") return updraft::delta::check(argv[2]);
    std::fprintf(stderr, "usage: %s [--check] DIR\n", argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_patch_fuzz_seeds: %s\n", e.what());
    return 1;
  }
}
