// The provisioning page: what the factory tool writes, the firmware reads back, and
// a damaged or truncated page is refused rather than half-read.
#include "agent/cortex_m/meter/provisioning.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace updraft::meter {
namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

class ProvisioningTest : public ::testing::Test {
 protected:
  ProvisioningTest() {
    in_.device_id = "meter-0001";
    in_.mac_key = key_;
    in_.product = "meter";
    in_.hardware = "nrf51822-meter";
    in_.trusted_root = root_;
  }
  std::vector<std::byte> encoded() {
    std::vector<std::byte> page(4096, std::byte{0xFF});
    Result<std::size_t> n = encode_provisioning(in_, page);
    EXPECT_TRUE(n.ok());
    page.resize(n.ok() ? *n : 0);
    return page;
  }

  std::vector<std::byte> key_ = bytes_of(std::string(64, 'a'));
  std::vector<std::byte> root_ = bytes_of(std::string(231, 'r'));
  Provisioning in_;
};

TEST_F(ProvisioningTest, WhatTheFactoryWritesTheMeterReadsInPlace) {
  std::vector<std::byte> page = encoded();
  page.resize(4096, std::byte{0xFF});  // the rest of the flash page stays erased
  Provisioning out;
  ASSERT_TRUE(parse_provisioning(page, out).ok());
  EXPECT_EQ(out.device_id, "meter-0001");
  EXPECT_EQ(out.device_id.data()[out.device_id.size()], '\0') << "a C string for CoapOptions";
  EXPECT_TRUE(std::equal(out.mac_key.begin(), out.mac_key.end(), key_.begin(), key_.end()));
  EXPECT_EQ(out.product, "meter");
  EXPECT_EQ(out.hardware, "nrf51822-meter");
  EXPECT_TRUE(
      std::equal(out.trusted_root.begin(), out.trusted_root.end(), root_.begin(), root_.end()));
  EXPECT_GE(out.trusted_root.data(), page.data()) << "read in place, not copied";
  EXPECT_LT(out.trusted_root.data(), page.data() + page.size());
}

TEST_F(ProvisioningTest, AnErasedPageIsNotProvisioned) {
  const std::vector<std::byte> erased(4096, std::byte{0xFF});
  Provisioning out;
  EXPECT_EQ(parse_provisioning(erased, out).error(), ErrorCode::kManifestMalformed);
}

TEST_F(ProvisioningTest, EveryTruncationAndEveryDamagedByteIsRefused) {
  const std::vector<std::byte> page = encoded();
  Provisioning out;
  for (std::size_t n = 0; n < page.size(); ++n)
    ASSERT_FALSE(parse_provisioning(ByteView(page.data(), n), out).ok()) << "length " << n;
  for (std::size_t i = 0; i < page.size(); ++i) {
    std::vector<std::byte> damaged = page;
    damaged[i] ^= std::byte{0x01};
    ASSERT_FALSE(parse_provisioning(damaged, out).ok()) << "byte " << i;
  }
}

TEST_F(ProvisioningTest, FieldsOutOfBoundsAreNotWritten) {
  std::vector<std::byte> page(4096);
  in_.device_id = "";
  EXPECT_FALSE(encode_provisioning(in_, page).ok());
  in_.device_id = std::string_view("met\0er", 6);
  EXPECT_FALSE(encode_provisioning(in_, page).ok()) << "a NUL would cut the C string";
  in_.device_id = "meter-0001";
  const std::vector<std::byte> big_root(kMaxTrustedRoot + 1);
  in_.trusted_root = big_root;
  EXPECT_FALSE(encode_provisioning(in_, page).ok());
  in_.trusted_root = root_;
  EXPECT_FALSE(encode_provisioning(in_, MutableByteView(page.data(), 100)).ok());
  in_.mac_key = {};
  EXPECT_TRUE(encode_provisioning(in_, page).ok()) << "no key: the meter speaks DTLS";
}

}  // namespace
}  // namespace updraft::meter
