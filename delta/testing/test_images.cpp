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

}  // namespace updraft::test_images
