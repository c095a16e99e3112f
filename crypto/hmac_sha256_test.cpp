#include "crypto/hmac_sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/host/hex.h"

namespace updraft {
namespace {

ByteView text(const std::string& s) { return as_bytes_view(s.data(), s.size()); }

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
TEST(HmacSha256Test, MatchesRfc4231) {
  const std::vector<std::byte> key1(20, std::byte{0x0b});
  EXPECT_EQ(to_hex(HmacSha256::mac(key1, text("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(HmacSha256::mac(text("Jefe"), text("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::vector<std::byte> key6(131, std::byte{0xaa});
  EXPECT_EQ(
      to_hex(HmacSha256::mac(key6, text("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Property: equal to OpenSSL's for random keys and messages, fed in any pieces.
TEST(HmacSha256Test, AgreesWithOpenSslForRandomInputsInAnySplit) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::vector<std::byte> key(rng() % 150), data(rng() % 500);
    for (std::byte& b : key) b = static_cast<std::byte>(rng());
    for (std::byte& b : data) b = static_cast<std::byte>(rng());
    unsigned char expected[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), expected, &length);
    HmacSha256 h(key);
    const std::size_t cut = data.empty() ? 0 : rng() % data.size();
    h.update(ByteView(data.data(), cut));
    h.update(ByteView(data.data() + cut, data.size() - cut));
    const Sha256Digest got = h.finish();
    ASSERT_EQ(std::memcmp(got.data(), expected, 32), 0) << "case " << i;
  }
}

}  // namespace
}  // namespace updraft
