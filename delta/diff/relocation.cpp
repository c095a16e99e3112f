#include "delta/diff/relocation.h"

#include <algorithm>
#include <optional>

#include "core/codec.h"
#include "core/crc32.h"
#include "delta/format/patch_format.h"

namespace updraft::delta {
namespace {

// Covers shorter than this are often chance matches, not moved code: they stay
// out of the layout map.
constexpr std::uint32_t kMinMapCover = 24;

}  // namespace

std::vector<RelocEntry> layout_map(const std::vector<Cover>& covers) {
  std::vector<Cover> sorted;
  for (const Cover& c : covers) {
    if (c.length >= kMinMapCover) sorted.push_back(c);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Cover& a, const Cover& b) {
    return a.old_pos != b.old_pos ? a.old_pos < b.old_pos : a.length > b.length;
  });
  std::vector<RelocEntry> map;
  for (const Cover& c : sorted) {
    const auto shift = static_cast<std::int32_t>(std::int64_t{c.new_pos} - c.old_pos);
    if (!map.empty() && map.back().old_start == c.old_pos) continue;  // the longer one won
    if (!map.empty() && map.back().shift == shift) continue;
    map.push_back({c.old_pos, shift});
  }
  return map;
}

std::vector<RelocEntry> limit_map(const std::vector<RelocEntry>& map, std::uint32_t old_size,
                                  std::size_t limit) {
  if (map.size() <= limit) return map;
  std::vector<std::size_t> order(map.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto span_of = [&](std::size_t i) {
    const std::uint32_t end = i + 1 < map.size() ? map[i + 1].old_start : old_size;
    return end - map[i].old_start;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return span_of(a) > span_of(b); });
  std::vector<bool> keep(map.size(), false);
  for (std::size_t i = 0; i < limit; ++i) keep[order[i]] = true;
  std::vector<RelocEntry> out;
  for (std::size_t i = 0; i < map.size(); ++i) {
    if (!keep[i] || (!out.empty() && out.back().shift == map[i].shift)) continue;
    out.push_back(map[i]);
  }
  return out;
}

namespace {

void put_varint(std::vector<std::byte>& out, std::uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::byte>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::byte>(v));
}

}  // namespace

// arch (1) | reserved (3) | base (4) | per entry: varint(start - previous start),
// varint(zig-zag(shift - previous shift)) | crc32 (4) of what precedes it.
std::vector<std::byte> encode_reloc_block(const RelocMap& map) {
  std::vector<std::byte> out(kRelocBlockHeadSize);
  out[0] = static_cast<std::byte>(map.arch);
  store_le32(out.data() + 4, map.base);
  std::uint32_t start = 0;
  std::int32_t shift = 0;
  for (std::uint32_t i = 0; i < map.count; ++i) {
    put_varint(out, map.entries[i].old_start - start);
    put_varint(out, zigzag_encode(static_cast<std::uint32_t>(map.entries[i].shift) -
                                  static_cast<std::uint32_t>(shift)));
    start = map.entries[i].old_start;
    shift = map.entries[i].shift;
  }
  std::byte crc[4];
  store_le32(crc, crc32(out));
  out.insert(out.end(), crc, crc + 4);
  return out;
}

namespace {

std::optional<std::uint32_t> base_by_pointers(ByteView image, std::uint32_t reset) {
  // The load address is where the table's handlers and the code's pointers agree
  // with the image: an odd word v is a pointer to a function when v - 1 - base is
  // a branch target in the image. Count, for each 256-aligned base below the reset
  // handler, how many (pointer, target) pairs it explains; the most wins.
  const auto size = static_cast<std::uint32_t>(image.size());
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(image.data());
  std::vector<std::uint32_t> targets;
  for (std::uint32_t p = 0; p + 4 <= size; p += 2) {
    std::int64_t t = 0;
    if (thumb2_branch_at(bytes, size, p, &t) && t >= 0 && t < size && t % 2 == 0) {
      targets.push_back(static_cast<std::uint32_t>(t));
    }
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  std::vector<std::uint32_t> pointers;
  const std::uint32_t low = reset > size ? reset - size : 0;
  for (std::size_t q = 0; q + 4 <= image.size(); q += 4) {
    const std::uint32_t v = load_le32(image.data() + q);
    if ((v & 1u) != 0 && v >= low && v <= reset + size) pointers.push_back(v - 1);
  }
  std::sort(pointers.begin(), pointers.end());
  pointers.erase(std::unique(pointers.begin(), pointers.end()), pointers.end());
  // Bound the work on huge images: a sample of the pointers is enough to vote.
  const std::size_t stride = std::max<std::size_t>(1, pointers.size() * targets.size() / 2'000'000);
  // One counter per 256-aligned base in (reset - size, reset].
  const std::uint32_t lowest = reset >= size ? (reset - size + 256) & ~0xFFu : 0;
  std::vector<std::uint32_t> votes((reset - lowest) / 256 + 1, 0);
  for (std::size_t i = 0; i < pointers.size(); i += stride) {
    for (const std::uint32_t t : targets) {
      const std::uint32_t base = pointers[i] - t;
      if (base % 256 == 0 && base - lowest <= reset - lowest) ++votes[(base - lowest) / 256];
    }
  }
  std::optional<std::uint32_t> best;
  std::uint32_t best_votes = 0;
  for (std::size_t k = votes.size(); k-- > 0;) {  // the highest base wins a tie
    if (votes[k] > best_votes) {
      best = lowest + static_cast<std::uint32_t>(k) * 256;
      best_votes = votes[k];
    }
  }
  if (best_votes < 4) return std::nullopt;  // no agreement (tiny images)
  return best;
}

// The aligned address below the reset handler that keeps the table's handlers
// inside the image and takes in the most odd (Thumb function) pointers.
std::uint32_t base_by_handlers(ByteView image, std::uint32_t reset) {
  const auto size = static_cast<std::uint32_t>(image.size());
  std::uint32_t best = (reset & ~1u) & ~0xFFu;
  std::size_t best_score = 0;
  for (unsigned k = 8; k <= 24; ++k) {
    const std::uint32_t base = (reset & ~1u) & ~((1u << k) - 1);
    if (k > 8 && base == ((reset & ~1u) & ~((1u << (k - 1)) - 1))) continue;  // scored already
    bool handlers_inside = true;
    for (std::size_t i = 1; i < 16; ++i) {
      const std::uint32_t v = load_le32(image.data() + 4 * i);
      if (v != 0 && ((v & 1u) == 0 || v - base >= size)) handlers_inside = false;
    }
    if (!handlers_inside) continue;
    std::size_t score = 0;
    for (std::size_t q = 0; q + 4 <= image.size(); q += 4) {
      const std::uint32_t v = load_le32(image.data() + q);
      if ((v & 1u) != 0 && v - base < size) ++score;
    }
    if (score > best_score) {
      best = base;
      best_score = score;
    }
  }
  return best;
}

}  // namespace

std::vector<std::uint32_t> thumb2_base_candidates(ByteView image) {
  if (image.size() < 64) return {};
  const std::uint32_t sp = load_le32(image.data());
  const std::uint32_t reset = load_le32(image.data() + 4);
  const std::uint32_t region = sp & 0xF0000000u;
  if ((region != 0x20000000u && region != 0x10000000u) || sp % 4 != 0 || (reset & 1u) == 0) {
    return {};
  }
  std::vector<std::uint32_t> out;
  if (const std::optional<std::uint32_t> by_pointers = base_by_pointers(image, reset)) {
    out.push_back(*by_pointers);
  }
  const std::uint32_t by_handlers = base_by_handlers(image, reset);
  if (out.empty() || out[0] != by_handlers) out.push_back(by_handlers);
  return out;
}

}  // namespace updraft::delta
