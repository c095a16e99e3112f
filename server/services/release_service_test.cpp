// ReleaseService on an in-memory store: what an upload must satisfy, what it
// leaves behind, and the check-in answers it signs.
#include "server/services/release_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/host/file.h"
#include "manifest/manifest.h"
#include "server/services/testing/service_fixture.h"

namespace updraft::server {
namespace {

using testing::Bytes;
using testing::ServiceFixture;

class ReleaseServiceTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    ProductSpec spec;
    spec.name = "meter";
    spec.slot_size = 64 * 1024;
    ASSERT_TRUE(fleet_->create_product(spec, "test", now_).ok());
    image_ = test_images::firmware_like(20 * 1024, 1);
  }

  HostResult<Release> try_upload(ReleaseUpload up, const Bytes& image) {
    return releases_->upload(up, image, "alice", now_);
  }

  static ReleaseUpload spec(const std::string& version, std::uint32_t counter) {
    ReleaseUpload up;
    up.product = "meter";
    up.version = version;
    up.security_counter = counter;
    up.hardware = {"board-a", "board-b"};
    return up;
  }

  Bytes image_;
};

TEST_F(ReleaseServiceTest, StoresTheImageUnderItsHashAndRecordsTheRelease) {
  HostResult<Release> r = try_upload(spec("1.2.3", 5), image_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->sha256, sha256_hex(image_));
  EXPECT_EQ(r->size, image_.size());
  HostResult<std::vector<std::byte>> on_disk = read_file((dir_ / "images" / r->sha256).string());
  ASSERT_TRUE(on_disk.ok());
  EXPECT_EQ(*on_disk, image_);
  HostResult<Release> read = releases_->release(r->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->hardware, (std::vector<std::string>{"board-a", "board-b"}));
  EXPECT_EQ(releases_->releases(std::nullopt)->size(), 1u);
  EXPECT_EQ(fleet_->audit(1, 0)->front().action, "release.upload");
  EXPECT_EQ(releases_->release(ReleaseId{99}).error().code, ErrorCode::kApiNotFound);
}

TEST_F(ReleaseServiceTest, RefusesWhatNoDeviceCouldInstallNamingTheField) {
  struct Case {
    ReleaseUpload up;
    Bytes image;
    const char* prefix;
  };
  std::vector<Case> cases;
  cases.push_back({spec("1.0", 1), image_, "version:"});
  cases.push_back({spec(std::string(24, '1'), 1), image_, "version:"});
  ReleaseUpload no_hw = spec("1.0.0", 1);
  no_hw.hardware.clear();
  cases.push_back({no_hw, image_, "hardware:"});
  ReleaseUpload bad_hw = spec("1.0.0", 1);
  bad_hw.hardware = {"board rev2"};
  cases.push_back({bad_hw, image_, "hardware:"});
  cases.push_back({spec("1.0.0", 1), Bytes{}, "image:"});
  cases.push_back({spec("1.0.0", 1), Bytes(64 * 1024 + 1, std::byte{1}), "image:"});
  for (const Case& c : cases) {
    HostResult<Release> r = try_upload(c.up, c.image);
    ASSERT_FALSE(r.ok()) << c.prefix;
    EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest) << r.error().message;
    EXPECT_EQ(r.error().message.rfind(c.prefix, 0), 0u) << r.error().message;
  }
  ReleaseUpload elsewhere = spec("1.0.0", 1);
  elsewhere.product = "no-such-product";
  EXPECT_EQ(try_upload(elsewhere, image_).error().code, ErrorCode::kApiNotFound);
  EXPECT_TRUE(releases_->releases(std::nullopt)->empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "images") &&
               !std::filesystem::is_empty(dir_ / "images"));
}

TEST_F(ReleaseServiceTest, AVersionIsUploadedOnce) {
  ASSERT_TRUE(try_upload(spec("1.0.0", 1), image_).ok());
  HostResult<Release> again = try_upload(spec("1.0.0", 2), test_images::random_bytes(100, 2));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kApiConflict);
}

TEST_F(ReleaseServiceTest, ANewerVersionMayNotLowerTheSecurityCounter) {
  ASSERT_TRUE(try_upload(spec("2.0.0", 5), image_).ok());
  HostResult<Release> lower = try_upload(spec("2.1.0", 4), test_images::random_bytes(100, 3));
  ASSERT_FALSE(lower.ok());
  EXPECT_EQ(lower.error().message.rfind("security_counter:", 0), 0u);
  // An older version with a lower counter is history, not a rollback.
  EXPECT_TRUE(try_upload(spec("1.0.0", 1), test_images::random_bytes(100, 4)).ok());
}

TEST_F(ReleaseServiceTest, SignsACheckInAnswerBoundToTheDeviceAndTheArtifact) {
  HostResult<Release> r = try_upload(spec("1.2.3", 5), image_);
  ASSERT_TRUE(r.ok());
  const Product product = *fleet_->product("meter");
  DeltaCache::Artifact full;
  full.kind = DeltaCache::Artifact::Kind::kFull;
  full.size = r->size;
  full.sha256 = r->sha256;
  HostResult<std::vector<std::byte>> answer =
      releases_->sign_answer(product, *r, full, "", now_ + 300, 77);
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  manifest::Manifest m;
  ASSERT_TRUE(manifest::parse_manifest(*answer, m).ok());
  EXPECT_EQ(m.product, "meter");
  EXPECT_EQ(m.version_text, "1.2.3");
  EXPECT_EQ(m.security_counter, 5u);
  EXPECT_EQ(m.image_size, image_.size());
  EXPECT_EQ(m.image_hash, Sha256::digest(image_));
  EXPECT_FALSE(m.is_delta);
  ASSERT_TRUE(m.is_check_in);
  EXPECT_EQ(m.freshness.nonce, 77u);
  EXPECT_EQ(m.freshness.expires, static_cast<std::uint64_t>(now_ + 300));
  EXPECT_GE(m.signatures.count, 1u);
}

}  // namespace
}  // namespace updraft::server
