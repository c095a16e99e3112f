#include "crypto/sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/constant_time.h"

namespace updraft {
namespace {

ByteView bytes_of(std::string_view text) { return as_bytes_view(text.data(), text.size()); }

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::byte b : bytes) {
    hex += kDigits[std::to_integer<int>(b) >> 4];
    hex += kDigits[std::to_integer<int>(b) & 0xF];
  }
  return hex;
}

std::string hex_digest(const Sha256Digest& digest) { return to_hex(digest); }

// The reference: OpenSSL's EVP SHA-256.
std::string openssl_sha256(ByteView data) {
  Sha256Digest out;
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()),
                       &size, EVP_sha256(), nullptr),
            1);
  EXPECT_EQ(size, Sha256::kDigestSize);
  return hex_digest(out);
}

std::vector<std::byte> random_bytes(std::mt19937& rng, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::byte& b : bytes) b = static_cast<std::byte>(rng() & 0xFF);
  return bytes;
}

// Feeds `data` to `hasher` in chunks of random sizes in [1, max_chunk].
void update_in_random_chunks(Sha256& hasher, ByteView data, std::mt19937& rng,
                             std::size_t max_chunk) {
  std::uniform_int_distribution<std::size_t> chunk_size(1, max_chunk);
  while (!data.empty()) {
    const std::size_t take = std::min(chunk_size(rng), data.size());
    hasher.update(data.first(take));
    data = data.subspan(take);
  }
}

TEST(Sha256Test, MatchesFipsVectors) {
  struct Vector {
    std::string_view message;
    std::string_view digest;
  };
  const Vector vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
       "opqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(hex_digest(Sha256::digest(bytes_of(v.message))), v.digest) << '"' << v.message << '"';
  }
}

TEST(Sha256Test, MatchesFipsVectorForOneMillionAs) {
  const std::string message(1'000'000, 'a');
  constexpr std::string_view kExpected =
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(hex_digest(Sha256::digest(bytes_of(message))), kExpected);

  // The same message the way the FIPS test describes it: 'a' one at a time.
  Sha256 hasher;
  const std::byte a{'a'};
  for (int i = 0; i < 1'000'000; ++i) hasher.update(ByteView(&a, 1));
  EXPECT_EQ(hex_digest(hasher.finish()), kExpected);
}

TEST(Sha256Test, MatchesOpenSslForEveryLengthUpTo300InAnyChunking) {
  std::mt19937 rng(300);
  for (std::size_t size = 0; size <= 300; ++size) {
    const std::vector<std::byte> data = random_bytes(rng, size);
    const std::string expected = openssl_sha256(data);
    ASSERT_EQ(hex_digest(Sha256::digest(data)), expected) << "size " << size;

    Sha256 one_byte_chunks;
    update_in_random_chunks(one_byte_chunks, data, rng, 1);
    ASSERT_EQ(hex_digest(one_byte_chunks.finish()), expected) << "size " << size;

    for (int trial = 0; trial < 8; ++trial) {
      Sha256 hasher;
      update_in_random_chunks(hasher, data, rng, std::max<std::size_t>(size, 1));
      ASSERT_EQ(hex_digest(hasher.finish()), expected) << "size " << size << " trial " << trial;
    }
  }
}

TEST(Sha256Test, MatchesOpenSslForLargeInputsInRandomChunks) {
  std::mt19937 rng(4096);
  for (std::size_t size : {std::size_t{65'536}, std::size_t{1'048'577}, std::size_t{4'194'303}}) {
    const std::vector<std::byte> data = random_bytes(rng, size);
    const std::string expected = openssl_sha256(data);
    EXPECT_EQ(hex_digest(Sha256::digest(data)), expected) << "size " << size;
    for (std::size_t max_chunk : {std::size_t{7}, std::size_t{100}, std::size_t{70'000}}) {
      Sha256 hasher;
      update_in_random_chunks(hasher, data, rng, max_chunk);
      EXPECT_EQ(hex_digest(hasher.finish()), expected)
          << "size " << size << " chunks " << max_chunk;
    }
  }
}

TEST(Sha256Test, AtBlockBoundaryOnlyForWholeBlocks) {
  Sha256 hasher;
  EXPECT_TRUE(hasher.at_block_boundary());
  const std::byte zero{0};
  for (int size = 1; size <= 200; ++size) {
    hasher.update(ByteView(&zero, 1));
    EXPECT_EQ(hasher.at_block_boundary(), size % 64 == 0) << "size " << size;
  }
}

TEST(Sha256Test, SaveAndRestoreAtEveryBlockBoundaryGivesSameDigest) {
  std::mt19937 rng(64);
  const std::vector<std::byte> data = random_bytes(rng, 12 * Sha256::kBlockSize + 37);
  const ByteView message(data);
  const std::string expected = openssl_sha256(message);

  for (std::size_t cut = 0; cut <= data.size(); cut += Sha256::kBlockSize) {
    Sha256 before;
    update_in_random_chunks(before, message.first(cut), rng, 100);
    ASSERT_TRUE(before.at_block_boundary());
    const Sha256::State state = before.save();
    EXPECT_EQ(state.length, cut);

    // What a device does after a power cut: a fresh hasher from the journal.
    Sha256 after = Sha256::restore(state);
    EXPECT_EQ(after.save().h, state.h);
    EXPECT_EQ(after.save().length, state.length);
    update_in_random_chunks(after, message.subspan(cut), rng, 100);
    EXPECT_EQ(hex_digest(after.finish()), expected) << "cut at " << cut;
  }
}

TEST(Sha256Test, SurvivesRepeatedRestores) {
  std::mt19937 rng(7);
  const std::vector<std::byte> data = random_bytes(rng, 40 * Sha256::kBlockSize);
  ByteView rest(data);
  Sha256::State state = Sha256().save();
  while (!rest.empty()) {
    Sha256 hasher = Sha256::restore(state);
    const std::size_t blocks = std::min<std::size_t>(1 + rng() % 5, rest.size() / 64);
    update_in_random_chunks(hasher, rest.first(blocks * 64), rng, 50);
    rest = rest.subspan(blocks * 64);
    state = hasher.save();
  }
  EXPECT_EQ(hex_digest(Sha256::restore(state).finish()), openssl_sha256(data));
}

TEST(Sha256Test, FinishLeavesHasherReadyForNextMessage) {
  Sha256 hasher;
  hasher.update(bytes_of("abc"));
  const Sha256Digest first = hasher.finish();
  EXPECT_TRUE(hasher.at_block_boundary());
  hasher.update(bytes_of("abc"));
  EXPECT_EQ(hasher.finish(), first);
  EXPECT_EQ(hex_digest(hasher.finish()), openssl_sha256({}));
}

TEST(Sha256Test, ResetDiscardsMessage) {
  Sha256 hasher;
  hasher.update(bytes_of("some bytes that are thrown away, longer than one block of sixty-four"));
  hasher.reset();
  hasher.update(bytes_of("abc"));
  EXPECT_EQ(hex_digest(hasher.finish()), openssl_sha256(bytes_of("abc")));
}

TEST(ConstantTimeEqualTest, EqualContentsCompareEqual) {
  EXPECT_TRUE(constant_time_equal({}, {}));
  const std::string a = "same bytes", b = "same bytes";
  EXPECT_TRUE(constant_time_equal(bytes_of(a), bytes_of(b)));
  const Sha256Digest d = Sha256::digest(bytes_of("abc"));
  EXPECT_TRUE(constant_time_equal(d, Sha256::digest(bytes_of("abc"))));
}

TEST(ConstantTimeEqualTest, LengthMismatchIsUnequal) {
  EXPECT_FALSE(constant_time_equal(bytes_of("abc"), bytes_of("abcd")));
  EXPECT_FALSE(constant_time_equal(bytes_of("abcd"), bytes_of("abc")));
  EXPECT_FALSE(constant_time_equal({}, bytes_of("a")));
}

TEST(ConstantTimeEqualTest, DetectsEveryFlippedBitAtEveryPosition) {
  const Sha256Digest expected = Sha256::digest(bytes_of("abc"));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Sha256Digest actual = expected;
      actual[i] ^= std::byte(1u << bit);
      EXPECT_FALSE(constant_time_equal(expected, actual)) << "byte " << i << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace updraft
