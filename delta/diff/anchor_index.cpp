#include "delta/diff/anchor_index.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace updraft::delta {
namespace {

std::uint64_t load64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The 8-byte word of byte value `word`'s low byte, repeated: a window of a run.
bool is_run(std::uint64_t a, std::uint64_t b) {
  return a == b && a == (a & 0xFF) * 0x0101010101010101ull;
}

// How many leading bytes of a[0, n) and b[0, n) agree, eight at a time.
std::uint32_t common_prefix(const std::byte* a, const std::byte* b, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t x = load64(a + i) ^ load64(b + i);
    if (x != 0) return static_cast<std::uint32_t>(i + std::countr_zero(x) / 8);
  }
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<std::uint32_t>(i);
}

// At most this many old copies of one window's content are kept, and a probe
// looks at most this far: the table stays a few probes deep on repetitive data.
constexpr int kCopiesKept = 4;
constexpr int kMaxProbes = 32;
// A match is measured at most this far. The finder takes a match this long
// whole and asks again at its end, so nothing is lost; measuring a 200 MiB
// unchanged stretch in one go touched it all before the diff could let go
// of what it had passed (1 GiB ext4: 207 MiB of the new image held at once).
constexpr std::size_t kMaxMatch = std::size_t{1} << 20;

}  // namespace

std::uint64_t AnchorIndex::hash_at(const std::byte* window) const {
  std::uint64_t h = load64(window) * 0x9E3779B97F4A7C15ull;
  h ^= (load64(window + 8) + (h >> 29)) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 32;
  return h * 0x165667B19E3779F9ull;
}

std::size_t AnchorIndex::slot_of(std::uint64_t hash) const {
  // Multiply-shift onto the table's size, which need not be a power of two.
  return static_cast<std::size_t>(((hash & 0xFFFFFFFFull) * slots_.size()) >> 32);
}

void AnchorIndex::insert(std::uint32_t pos, std::uint64_t hash) {
  const std::byte* window = text_.data() + pos;
  std::size_t slot = slot_of(hash);
  int copies = 0;
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    std::uint32_t& entry = slots_[slot];
    if (entry == 0) {
      entry = pos + 1;
      return;
    }
    if (std::memcmp(text_.data() + entry - 1, window, kWindow) == 0 && ++copies >= kCopiesKept) {
      return;
    }
    if (++slot == slots_.size()) slot = 0;
  }
}

AnchorIndex AnchorIndex::build(ByteView text, const std::atomic<bool>* cancel) {
  AnchorIndex index;
  index.text_ = text;
  // About 8 M anchors at most (48 MiB of table at 1.5 slots of 4 bytes each),
  // and one in 16 up to 128 MiB.
  while (index.spacing_ < 256 && text.size() / index.spacing_ > (std::size_t{1} << 23)) {
    index.spacing_ *= 2;
  }
  if (text.size() < kWindow) return index;
  index.slots_.assign(text.size() / index.spacing_ * 3 / 2 + 1024, 0);

  const std::byte* data = text.data();
  const std::size_t last = text.size() - kWindow;
  std::uint32_t run_start = 0;
  for (std::size_t pos = 0; pos <= last; ++pos) {
    if ((pos & 0xFFFFF) == 0 && cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      break;
    }
    const std::uint64_t a = load64(data + pos), b = load64(data + pos + 8);
    if (is_run(a, b)) {
      // Inside a run of at least kWindow bytes: note where it started, and how
      // long it has grown, for its byte value.
      if (pos == 0 || data[pos - 1] != data[pos]) run_start = static_cast<std::uint32_t>(pos);
      Run& run = index.runs_[a & 0xFF];
      const auto length = static_cast<std::uint32_t>(pos + kWindow - run_start);
      if (length > run.length) run = {run_start, length};
      continue;
    }
    const std::uint64_t h = index.hash_at(data + pos);
    if (index.is_anchor(h)) index.insert(static_cast<std::uint32_t>(pos), h);
  }
  return index;
}

Match AnchorIndex::longest_match(ByteView pattern) const {
  if (pattern.size() < kWindow || slots_.empty()) return {};
  const std::uint64_t a = load64(pattern.data()), b = load64(pattern.data() + 8);
  Match best;
  const auto consider = [&](std::uint32_t old_pos) {
    const std::uint32_t length =
        common_prefix(text_.data() + old_pos, pattern.data(),
                      std::min({text_.size() - old_pos, pattern.size(), kMaxMatch}));
    if (length > best.length) best = {old_pos, length};
  };
  if (is_run(a, b)) {
    const Run& run = runs_[a & 0xFF];
    if (run.length != 0) consider(run.start);
    return best;
  }
  const std::uint64_t h = hash_at(pattern.data());
  if (!is_anchor(h)) return {};
  std::size_t slot = slot_of(h);
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const std::uint32_t entry = slots_[slot];
    if (entry == 0) break;
    if (std::memcmp(text_.data() + entry - 1, pattern.data(), kWindow) == 0) consider(entry - 1);
    if (++slot == slots_.size()) slot = 0;
  }
  return best;
}

}  // namespace updraft::delta
