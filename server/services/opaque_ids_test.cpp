// OpaqueIds: round trips, check digits that cannot be walked or moved to another
// id, and purposes that keep the ids of one use out of another.
#include "server/services/opaque_ids.h"

#include <gtest/gtest.h>

namespace updraft::server {
namespace {

const DeviceTokens kKeys("0123456789abcdef0123456789abcdef");

TEST(OpaqueIdsTest, RoundTripAsTheIdAndSixDigits) {
  const OpaqueIds ids(kKeys, "test");
  for (std::int64_t id : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1234567},
                          std::int64_t{9'000'000'000}, std::int64_t{9'223'372'036'854'775'807}}) {
    const std::string text = ids.make(DeploymentId{id});
    EXPECT_EQ(text.substr(0, text.size() - 6), std::to_string(id));
    EXPECT_EQ(ids.parse(text), DeploymentId{id}) << text;
  }
}

TEST(OpaqueIdsTest, RefusesAnythingMakeDidNotProduce) {
  const OpaqueIds ids(kKeys, "test");
  const std::string seven = ids.make(DeploymentId{7});
  std::string eight = seven;
  eight[0] = '8';
  EXPECT_FALSE(ids.parse(eight));  // another id with the same check digits
  for (std::size_t i = 0; i < seven.size(); ++i) {
    std::string changed = seven;
    changed[i] = changed[i] == '9' ? '0' : static_cast<char>(changed[i] + 1);
    EXPECT_FALSE(ids.parse(changed)) << changed;
  }
  std::vector<std::string> bad = {"", "7", "abc", seven + "0", std::string(26, '1')};
  for (const char* prefix : {"0", "+", "-", " "}) bad.push_back(std::string(prefix).append(seven));
  for (const std::string& text : bad) EXPECT_FALSE(ids.parse(text)) << text;
}

TEST(OpaqueIdsTest, APurposeOrAKeyOfItsOwnMakesOtherIds) {
  const OpaqueIds enos(kKeys, "enos-version");
  const OpaqueIds coap(kKeys, "coap-artifact");
  const OpaqueIds other_key(DeviceTokens("another key, another server......"), "enos-version");
  int taken_by_coap = 0, taken_by_other_key = 0;
  for (std::int64_t id = 1; id <= 200; ++id) {
    const std::string text = enos.make(DeploymentId{id});
    ASSERT_EQ(enos.parse(text), DeploymentId{id});
    taken_by_coap += coap.parse(text).has_value();
    taken_by_other_key += other_key.parse(text).has_value();
  }
  // By chance one id in a million shares its check digits; a few in 200 would be a bug.
  EXPECT_LE(taken_by_coap, 1);
  EXPECT_LE(taken_by_other_key, 1);
}

}  // namespace
}  // namespace updraft::server
