#include "net/http/ranges.h"

#include <gtest/gtest.h>

#include <string>

namespace updraft::net::http {
namespace {

TEST(RangesTest, ReadsOneClosedOpenOrSuffixRange) {
  ByteRange r;
  ASSERT_EQ(parse_range("bytes=10-19", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.first, 10u);
  EXPECT_EQ(r.last, 19u);
  ASSERT_EQ(parse_range("bytes=90-", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-5", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.first, 95u);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range(" bytes= 0 - 0 ", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 0u);
}

TEST(RangesTest, ClampsTheEndAndTheSuffixToTheFile) {
  ByteRange r;
  ASSERT_EQ(parse_range("bytes=50-1000", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-1000", 100, r), RangeKind::kPartial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
}

TEST(RangesTest, StartPastTheEndOrAnEmptySuffixIsUnsatisfiable) {
  ByteRange r;
  EXPECT_EQ(parse_range("bytes=100-", 100, r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100, r), RangeKind::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0, r), RangeKind::kUnsatisfiable);
}

TEST(RangesTest, WhatItDoesNotUnderstandServesTheWholeFile) {
  ByteRange r;
  for (const char* header : {"items=0-1", "bytes=0-1,5-6", "bytes=5", "bytes=9-3", "bytes=a-b",
                             "bytes=-", "bytes=1-x", "bytes=18446744073709551616-"}) {
    EXPECT_EQ(parse_range(header, 100, r), RangeKind::kWhole) << header;
  }
}

// Property: every well-formed range of every file size either lies inside the
// file or is refused; never a range past the last byte.
TEST(RangesTest, APartialRangeAlwaysLiesInsideTheFile) {
  for (std::uint64_t size = 0; size < 20; ++size) {
    for (std::uint64_t first = 0; first < 24; ++first) {
      for (std::uint64_t last = first; last < 24; ++last) {
        ByteRange r;
        const std::string header = "bytes=" + std::to_string(first) + "-" + std::to_string(last);
        const RangeKind kind = parse_range(header, size, r);
        if (first >= size) {
          EXPECT_EQ(kind, RangeKind::kUnsatisfiable) << header << " of " << size;
          continue;
        }
        ASSERT_EQ(kind, RangeKind::kPartial) << header << " of " << size;
        EXPECT_EQ(r.first, first);
        EXPECT_LE(r.first, r.last);
        EXPECT_LT(r.last, size);
      }
    }
  }
}

TEST(RangesTest, EtagListsMatchWholeTagsOrTheStar) {
  EXPECT_TRUE(etag_listed("*", "\"a\""));
  EXPECT_TRUE(etag_listed("\"x\", \"a\"", "\"a\""));
  EXPECT_TRUE(etag_listed("W/\"a\"", "\"a\""));
  EXPECT_FALSE(etag_listed("\"ab\"", "\"a\""));
  EXPECT_FALSE(etag_listed("\"b\"", "\"a\""));
}

TEST(RangesTest, IfRangeHonoursTheRangeOnlyForTheSameTag) {
  EXPECT_TRUE(if_range_allows("", "\"a\""));
  EXPECT_TRUE(if_range_allows(" \"a\" ", "\"a\""));
  EXPECT_FALSE(if_range_allows("\"b\"", "\"a\""));
  EXPECT_FALSE(if_range_allows("Tue, 24 Nov 2026 13:00:00 GMT", "\"a\""));
}

}  // namespace
}  // namespace updraft::net::http
