#include "manifest/semver.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace updraft::manifest {
namespace {

SemVer parsed(std::string_view text) {
  Result<SemVer> v = parse_semver(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : SemVer{};
}

TEST(SemVerTest, ParsesCoreNumbersPreReleaseAndBuild) {
  const SemVer v = parsed("10.20.30-rc.1+build.5");
  EXPECT_EQ(v.major, 10u);
  EXPECT_EQ(v.minor, 20u);
  EXPECT_EQ(v.patch, 30u);
  EXPECT_EQ(v.pre_release, "rc.1");
  EXPECT_EQ(v.build, "build.5");
  EXPECT_EQ(parsed("4294967295.0.0").major, 4294967295u);
  EXPECT_EQ(parsed("1.0.0+0.build.1-rc.10000aaa-kk-0.1").build, "0.build.1-rc.10000aaa-kk-0.1");
  EXPECT_EQ(parsed("1.0.0-0A.is.legal").pre_release, "0A.is.legal");
}

TEST(SemVerTest, RejectsWhatSemverRejects) {
  for (std::string_view text : {"",
                                "1",
                                "1.2",
                                "1.2.3.4",
                                "01.1.1",
                                "1.01.1",
                                "1.1.01",
                                "1.2.3-",
                                "1.2.3+",
                                "1.2.3-01",
                                "1.2.3-rc..1",
                                "1.2.3-rc.",
                                "1.2.3+build..1",
                                "1.2.3-r c",
                                "v1.2.3",
                                "-1.2.3",
                                "1.2.-3",
                                "1.2.3-Ω",
                                "4294967296.0.0",
                                "99999999999999999999.0.0",
                                "1..3",
                                ".2.3",
                                "1.2."}) {
    EXPECT_EQ(parse_semver(text).ok(), false) << '"' << text << '"';
  }
}

TEST(SemVerTest, OrdersBySemverPrecedence) {
  // The chain from semver.org section 11, and numeric (not text) order of numbers.
  const std::vector<std::string_view> ascending = {
      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
      "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
      "1.0.1",        "1.9.0",         "1.10.0",           "1.11.0",
      "2.0.0",        "10.0.0",        "4294967295.0.0"};
  for (std::size_t i = 0; i < ascending.size(); ++i) {
    for (std::size_t j = 0; j < ascending.size(); ++j) {
      const int c = compare(parsed(ascending[i]), parsed(ascending[j]));
      const int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ((c > 0) - (c < 0), expected) << ascending[i] << " vs " << ascending[j];
    }
  }
}

TEST(SemVerTest, BuildMetadataTakesNoPartInPrecedence) {
  EXPECT_EQ(compare(parsed("1.2.3+a"), parsed("1.2.3+b")), 0);
  EXPECT_EQ(compare(parsed("1.2.3-rc.1+a"), parsed("1.2.3-rc.1")), 0);
}

TEST(SemVerTest, LongNumericIdentifiersCompareNumerically) {
  EXPECT_LT(compare(parsed("1.0.0-99"), parsed("1.0.0-100")), 0);
  EXPECT_LT(compare(parsed("1.0.0-99999999999999999998"), parsed("1.0.0-99999999999999999999")), 0);
  EXPECT_LT(compare(parsed("1.0.0-999"), parsed("1.0.0-a")),
            0);  // numeric sorts before alphanumeric
}

}  // namespace
}  // namespace updraft::manifest
