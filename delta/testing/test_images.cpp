#include "delta/testing/test_images.h"

#include <algorithm>
#include <random>

#include "core/codec.h"

namespace updraft::test_images {

Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(size);
  for (std::byte& b : out) b = std::byte(rng() & 0xFF);
  return out;
}

Bytes firmware_like(std::size_t size, std::uint32_t seed) {
  static constexpr std::uint32_t kOpcodes[] = {0xE92D4000, 0xE8BD8000, 0xF000F800, 0x4770BF00,
                                               0x68004800, 0x60086801, 0xB5104C05, 0x2000BD10};
  static constexpr char kText[] = "abcdefghijklmnopqrstuvwxyz _%:=0123456789";
  std::mt19937 rng(seed);
  Bytes out;
  out.reserve(size + 64);
  while (out.size() < size) {
    const auto r = static_cast<std::uint32_t>(rng());
    switch (r % 8) {
      case 0:
        for (std::uint32_t i = 0; i < 8 + (r >> 8) % 32; ++i) {
          out.push_back(std::byte(kText[static_cast<std::uint32_t>(rng()) % (sizeof(kText) - 1)]));
        }
        break;
      case 1:
        out.insert(out.end(), 4 + (r >> 8) % 60, std::byte{0});
        break;
      default: {
        std::byte word[4];
        store_le32(word, kOpcodes[(r >> 3) % 8] ^ ((r >> 16) & 0x0FFF));
        out.insert(out.end(), word, word + 4);
      }
    }
  }
  out.resize(size);
  return out;
}

Bytes insert_blocks(Bytes image, int count, std::uint32_t max_len, std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    const std::size_t at = rng() % (image.size() + 1);
    const Bytes block = firmware_like(1 + rng() % max_len, static_cast<std::uint32_t>(rng()));
    image.insert(image.begin() + static_cast<std::ptrdiff_t>(at), block.begin(), block.end());
  }
  return image;
}

Bytes delete_blocks(Bytes image, int count, std::uint32_t max_len, std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < count && !image.empty(); ++i) {
    const std::size_t at = rng() % image.size();
    const std::size_t len = std::min<std::size_t>(1 + rng() % max_len, image.size() - at);
    image.erase(image.begin() + static_cast<std::ptrdiff_t>(at),
                image.begin() + static_cast<std::ptrdiff_t>(at + len));
  }
  return image;
}

Bytes move_blocks(const Bytes& image, std::size_t pieces, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::size_t> cuts = {0, image.size()};
  for (std::size_t i = 1; i < pieces; ++i) cuts.push_back(rng() % image.size());
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::size_t> order(cuts.size() - 1);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
  Bytes out;
  for (std::size_t piece : order) {
    out.insert(out.end(), image.begin() + static_cast<std::ptrdiff_t>(cuts[piece]),
               image.begin() + static_cast<std::ptrdiff_t>(cuts[piece + 1]));
  }
  return out;
}

Bytes spread_changes(Bytes image, std::uint32_t min_gap, std::uint32_t max_gap,
                     std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (std::size_t at = rng() % max_gap; at < image.size();
       at += min_gap + rng() % (max_gap - min_gap)) {
    image[at] ^= std::byte(1 + rng() % 255);
  }
  return image;
}

Bytes relocate_pointers(Bytes image, std::size_t begin, std::size_t end, std::uint32_t delta) {
  for (std::size_t at = begin; at + 4 <= end && at + 4 <= image.size(); at += 4) {
    store_le32(image.data() + at, load_le32(image.data() + at) + delta);
  }
  return image;
}

Bytes thumb2_image(std::uint32_t base, std::size_t functions, std::uint32_t seed,
                   std::size_t grow_at, std::uint32_t grow) {
  // A body is a list of 16-bit ops and calls, fixed per function before layout.
  // The ops are common Thumb encodings, none of them a 32-bit branch prefix.
  constexpr std::uint16_t kOps[] = {0xB510, 0x4770, 0x2000, 0x6800, 0x4618, 0x3001,
                                    0x2800, 0xD1FA, 0xBD10, 0x6043, 0x1C40, 0x4283};
  struct Item {
    bool call;
    std::uint32_t value;  // the op, or the callee
  };
  std::vector<std::vector<Item>> bodies(functions);
  for (std::size_t f = 0; f < functions; ++f) {
    std::mt19937 rng(seed * 7919u + static_cast<std::uint32_t>(f));
    const auto halfwords =
        static_cast<std::uint32_t>(32 + rng() % 224 + (f == grow_at ? grow / 2 : 0));
    for (std::uint32_t h = 0; h < halfwords;) {
      if (rng() % 8 == 0 && h + 2 <= halfwords) {
        bodies[f].push_back({true, static_cast<std::uint32_t>(rng() % functions)});
        h += 2;
      } else {
        const std::uint16_t op = kOps[rng() % std::size(kOps)];
        bodies[f].push_back({false, static_cast<std::uint32_t>(op | (rng() % 8))});
        h += 1;
      }
    }
  }
  constexpr std::uint32_t kVectorBytes = 64;
  std::vector<std::uint32_t> start(functions);
  std::uint32_t at = kVectorBytes;
  for (std::size_t f = 0; f < functions; ++f) {
    start[f] = at;
    std::uint32_t bytes = 0;
    for (const Item& item : bodies[f]) bytes += item.call ? 4 : 2;
    at += (bytes + 3) & ~3u;
  }
  Bytes image(at + 4 * functions);
  std::byte* p = image.data();
  store_le32(p, 0x20008000u);  // initial stack pointer, in SRAM
  for (std::uint32_t v = 1; v < kVectorBytes / 4; ++v) {
    store_le32(p + 4 * v, base + start[v % functions] + 1);
  }
  for (std::size_t f = 0; f < functions; ++f) {
    std::uint32_t pc = start[f];
    for (const Item& item : bodies[f]) {
      if (!item.call) {
        store_le16(p + pc, static_cast<std::uint16_t>(item.value));
        pc += 2;
        continue;
      }
      // BL: 11110 S imm10 | 11 J1 1 J2 imm11, offset from pc + 4.
      const auto imm = static_cast<std::uint32_t>(static_cast<std::int64_t>(start[item.value]) -
                                                  (std::int64_t{pc} + 4));
      const std::uint32_t s = (imm >> 24) & 1u;
      const std::uint32_t j1 = ~(((imm >> 23) & 1u) ^ s) & 1u;
      const std::uint32_t j2 = ~(((imm >> 22) & 1u) ^ s) & 1u;
      store_le16(p + pc, static_cast<std::uint16_t>(0xF000u | (s << 10) | ((imm >> 12) & 0x3FFu)));
      store_le16(p + pc + 2, static_cast<std::uint16_t>(0xD000u | (j1 << 13) | (j2 << 11) |
                                                        ((imm >> 1) & 0x7FFu)));
      pc += 4;
    }
  }
  for (std::size_t f = 0; f < functions; ++f) {
    store_le32(p + at + 4 * f, base + start[f] + 1);  // a table of function pointers
  }
  return image;
}

}  // namespace updraft::test_images
