#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "core/codec.h"
#include "core/crc32.h"
#include "core/error_code.h"
#include "core/host/error.h"
#include "core/result.h"

namespace updraft {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return ErrorCode::kInvalidArgument;
  return c - '0';
}

Result<int> sum_digits(const char* s) {
  int total = 0;
  for (; *s != 0; ++s) {
    UPDRAFT_TRY_ASSIGN(int d, parse_digit(*s));
    total += d;
  }
  return total;
}

HostResult<int> host_sum(const char* s) {
  UPDRAFT_TRY_ASSIGN(int v, sum_digits(s));
  return v;
}

TEST(ResultTest, PropagatesErrorsAcrossErrorTypes) {
  EXPECT_EQ(sum_digits("123").value(), 6);
  EXPECT_EQ(sum_digits("1x3").error(), ErrorCode::kInvalidArgument);
  HostResult<int> r = host_sum("9?");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, describe(ErrorCode::kInvalidArgument));
}

TEST(ErrorCodeTest, EveryCatalogueNameIsUniqueAndDescribed) {
  std::set<std::string_view> names;
  for (int n = 0; n < 1000; ++n) {
    const auto code = static_cast<ErrorCode>(n);
    if (error_name(code) == "UNKNOWN") continue;
    EXPECT_TRUE(names.insert(error_name(code)).second) << n;
    EXPECT_NE(describe(code), "unknown error") << n;
  }
  EXPECT_GT(names.size(), 10u);
}

TEST(Crc32Test, MatchesPublishedCheckValueAndContinues) {
  const char* text = "123456789";
  EXPECT_EQ(crc32(as_bytes_view(text, 9)), 0xCBF43926u);
  const std::uint32_t first = crc32(as_bytes_view(text, 4));
  EXPECT_EQ(crc32(as_bytes_view(text + 4, 5), first), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
}

TEST(CodecTest, LittleEndianRoundTrip) {
  std::byte buf[8];
  store_le32(buf, 0x11223344u);
  EXPECT_EQ(std::to_integer<int>(buf[0]), 0x44);
  EXPECT_EQ(load_le32(buf), 0x11223344u);
  store_le64(buf, 0x0102030405060708ull);
  EXPECT_EQ(load_le64(buf), 0x0102030405060708ull);
  store_le16(buf, 0xBEEF);
  EXPECT_EQ(load_le16(buf), 0xBEEF);
}

}  // namespace
}  // namespace updraft
