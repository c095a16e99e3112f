#include "crypto/host/legacy_digests.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace updraft {
namespace {

std::string write_temp(const std::string& bytes) {
  char path[] = "/tmp/updraft-digests-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// RFC 3174 and RFC 1321 test vectors, and a file longer than one read buffer.
TEST(LegacyDigestsTest, MatchesTheStandardVectors) {
  const std::string abc = write_temp("abc");
  const LegacyDigests d = legacy_digests_of_file(abc).value();
  EXPECT_EQ(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(d.md5, "900150983cd24fb0d6963f7d28e17f72");
  std::remove(abc.c_str());

  const std::string million = write_temp(std::string(1'000'000, 'a'));
  const LegacyDigests m = legacy_digests_of_file(million).value();
  EXPECT_EQ(m.sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  EXPECT_EQ(m.md5, "7707d6ae4e027c70eea2a935c2296f21");
  std::remove(million.c_str());
}

TEST(LegacyDigestsTest, AMissingFileIsAnIoError) {
  const HostResult<LegacyDigests> r = legacy_digests_of_file("/nonexistent/updraft/image");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIoError);
}

}  // namespace
}  // namespace updraft
