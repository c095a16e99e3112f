// ReleaseService on an in-memory store: what an upload must satisfy, what it
// leaves behind, and the check-in answers it signs.
#include "server/services/release_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "core/host/file.h"
#include "core/host/hex.h"
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

  // `bytes` as an uploaded file in dir_, the way updraftd hands one over.
  ImageFile incoming(const Bytes& bytes, const std::string& name = "body-1") {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return ImageFile{path.string(), bytes.size(), sha256_hex(bytes)};
  }

  bool images_dir_empty() const {
    return !std::filesystem::exists(dir_ / "images") || std::filesystem::is_empty(dir_ / "images");
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

TEST_F(ReleaseServiceTest, AnUploadedFileIsMovedIntoPlaceOrDeleted) {
  const ImageFile file = incoming(image_);
  HostResult<Release> r = releases_->upload(spec("1.0.0", 1), file, "alice", now_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->sha256, file.sha256);
  EXPECT_FALSE(std::filesystem::exists(file.path));
  EXPECT_EQ(*read_file((dir_ / "images" / r->sha256).string()), image_);

  // The same bytes again, as another version: stored once, the copy deleted.
  const ImageFile again = incoming(image_, "body-2");
  ASSERT_TRUE(releases_->upload(spec("1.0.1", 1), again, "alice", now_).ok());
  EXPECT_FALSE(std::filesystem::exists(again.path));

  // Refused (taken version; too large for the slot): the file goes, the image stays.
  const ImageFile taken = incoming(test_images::random_bytes(100, 5), "body-3");
  EXPECT_EQ(releases_->upload(spec("1.0.0", 2), taken, "alice", now_).error().code,
            ErrorCode::kApiConflict);
  EXPECT_FALSE(std::filesystem::exists(taken.path));
  const ImageFile large = incoming(Bytes(64 * 1024 + 1, std::byte{7}), "body-4");
  EXPECT_EQ(releases_->upload(spec("2.0.0", 2), large, "alice", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_FALSE(std::filesystem::exists(large.path));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "images" / r->sha256));
  EXPECT_EQ(releases_->releases(std::nullopt)->size(), 2u);
}

// --- .mender uploads, with artifacts the real mender-artifact makes.

class MenderUploadTest : public ReleaseServiceTest {
 protected:
  void SetUp() override {
    ReleaseServiceTest::SetUp();
    if (std::system("command -v mender-artifact >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "mender-artifact is not installed (scripts/setup.sh installs it)";
    ProductSpec gw;
    gw.name = "gw-test";
    gw.profile = "linux";
    ASSERT_TRUE(fleet_->create_product(gw, "test", now_).ok());
    std::ofstream(dir_ / "app.bin") << "application bytes";
  }
  // Runs `command` in dir_; true when it exits 0.
  bool run(const std::string& command) {
    return std::system(("cd '" + dir_.string() + "' && " + command + " >/dev/null 2>&1").c_str()) ==
           0;
  }
  // An artifact named `name` for `types` (each "-t x"), signed with `key` if given,
  // handed over as an uploaded file.
  ImageFile artifact(const std::string& name, const std::string& types,
                     const std::string& key = "") {
    const std::string file = name + ".mender";
    EXPECT_TRUE(run("mender-artifact write module-image -T single-file -n " + name + " " + types +
                    " -o " + file + " -f app.bin" + (key.empty() ? "" : " -k " + key)));
    return incoming(*read_file((dir_ / file).string()), "upload-" + name);
  }
  std::string public_pem(const std::string& key) {
    EXPECT_TRUE(run("openssl pkey -in " + key + " -pubout -out " + key + ".pub"));
    std::ifstream in(dir_ / (key + ".pub"));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
};

TEST_F(MenderUploadTest, TheProductIsTheDeviceTypesAndTheVersionTheNameWhenItIsOne) {
  HostResult<Release> r =
      releases_->upload_mender({}, artifact("2.1.0", "-t gw-test -t other"), "alice", now_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->product, fleet_->product("gw-test")->id);
  EXPECT_EQ(r->version, "2.1.0");
  EXPECT_EQ(r->mender_artifact_name, "2.1.0");
  EXPECT_EQ(r->hardware, (std::vector<std::string>{"gw-test", "other"}));

  // A name that is no version needs one; a product the artifact is not for is refused.
  const HostResult<Release> unnamed =
      releases_->upload_mender({}, artifact("release-3", "-t gw-test"), "alice", now_);
  EXPECT_EQ(unnamed.error().message,
            "version: required, since the artifact's name \"release-3\" is not a semantic version");
  MenderUpload meter;
  meter.product = "meter";
  meter.version = "3.0.0";
  EXPECT_EQ(releases_->upload_mender(meter, artifact("release-3", "-t gw-test"), "alice", now_)
                .error()
                .message,
            "artifact_depends.device_type: [gw-test] does not include product meter");
  EXPECT_EQ(
      releases_->upload_mender({}, artifact("release-4", "-t nothing"), "alice", now_).error().code,
      ErrorCode::kApiNotFound);
  MenderUpload same_name;
  same_name.version = "2.2.0";
  EXPECT_EQ(releases_->upload_mender(same_name, artifact("2.1.0", "-t gw-test"), "alice", now_)
                .error()
                .code,
            ErrorCode::kApiConflict);
  // A damaged file: refused, and nothing of it is left.
  ImageFile damaged = artifact("release-5", "-t gw-test");
  std::filesystem::resize_file(damaged.path, damaged.size / 2);
  EXPECT_EQ(releases_->upload_mender({}, damaged, "alice", now_).error().code,
            ErrorCode::kApiBadRequest);
  EXPECT_FALSE(std::filesystem::exists(damaged.path));
  EXPECT_EQ(releases_->releases(std::nullopt)->size(), 1u);
}

TEST_F(MenderUploadTest, WithAVerificationKeyOnlyArtifactsItSignedAreTaken) {
  ASSERT_TRUE(run("openssl genrsa -traditional -out key.pem 2048"));
  ASSERT_TRUE(run("openssl genrsa -traditional -out other.pem 2048"));
  const Product gw = *fleet_->product("gw-test");
  EXPECT_EQ(releases_->set_mender_key(gw, "not a key", "alice", now_).error().code,
            ErrorCode::kApiBadRequest);
  ASSERT_TRUE(releases_->set_mender_key(gw, public_pem("key.pem"), "alice", now_).ok());
  EXPECT_EQ(
      releases_->upload_mender({}, artifact("1.0.0", "-t gw-test"), "alice", now_).error().code,
      ErrorCode::kSignatureMissing);
  EXPECT_EQ(
      releases_->upload_mender({}, artifact("1.0.1", "-t gw-test", "other.pem"), "alice", now_)
          .error()
          .code,
      ErrorCode::kSignatureInvalid);
  EXPECT_TRUE(
      releases_->upload_mender({}, artifact("1.0.2", "-t gw-test", "key.pem"), "alice", now_).ok());
  ASSERT_TRUE(releases_->set_mender_key(gw, "", "alice", now_).ok());
  EXPECT_TRUE(releases_->upload_mender({}, artifact("1.0.3", "-t gw-test"), "alice", now_).ok());
}

TEST_F(ReleaseServiceTest, TextThatIsNotUtf8IsRefusedAndNothingStored) {
  ReleaseUpload latin1 = spec("1.0.0", 1);
  latin1.notes = "caf\xE9 release";  // Latin-1, as a shell in another locale sends it
  const ImageFile file = incoming(image_);
  HostResult<Release> r = releases_->upload(latin1, file, "alice", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest);
  EXPECT_EQ(r.error().message, "notes: not valid UTF-8");
  EXPECT_FALSE(std::filesystem::exists(file.path));
  EXPECT_TRUE(releases_->releases(std::nullopt)->empty());
  EXPECT_TRUE(images_dir_empty());
  EXPECT_EQ(releases_->upload_limit(latin1).error().message, "notes: not valid UTF-8");
  ReleaseUpload fine = spec("1.0.0", 1);
  fine.notes = "caf\xC3\xA9 release \xF0\x9F\x9A\x80";
  EXPECT_TRUE(try_upload(fine, image_).ok());
}

TEST_F(ReleaseServiceTest, TheUploadLimitIsTheSlotOrTheServersMaximum) {
  EXPECT_EQ(*releases_->upload_limit(spec("1.0.0", 1)), 64u * 1024);
  ProductSpec unbounded;
  unbounded.name = "gateway";
  ASSERT_TRUE(fleet_->create_product(unbounded, "test", now_).ok());
  ReleaseUpload gateway = spec("1.0.0", 1);
  gateway.product = "gateway";
  EXPECT_EQ(*releases_->upload_limit(gateway), ReleaseService::kDefaultMaxImageBytes);
  ReleaseService small(*store_, *keys_, *artifacts_, 1000);
  EXPECT_EQ(*small.upload_limit(gateway), 1000u);
  HostResult<Release> r = small.upload(gateway, test_images::random_bytes(1001, 6), "alice", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("image:", 0), 0u) << r.error().message;
  // Everything the image is not needed for is checked before it is sent.
  ASSERT_TRUE(try_upload(spec("1.0.0", 1), image_).ok());
  EXPECT_EQ(releases_->upload_limit(spec("1.0.0", 1)).error().code, ErrorCode::kApiConflict);
  ReleaseUpload nowhere = spec("1.0.0", 1);
  nowhere.product = "nowhere";
  EXPECT_EQ(releases_->upload_limit(nowhere).error().code, ErrorCode::kApiNotFound);
}

TEST_F(ReleaseServiceTest, AFailedStoreLeavesNoImageAndDiskErrorsGiveTheReasonNotThePath) {
  // A store on a file, whose release insert fails as a full disk would make it.
  const std::string db = (dir_ / "failing.db").string();
  HostResult<std::unique_ptr<SqliteStore>> opened = SqliteStore::open(db);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  std::unique_ptr<SqliteStore> store = std::move(*opened);
  Product product;
  product.name = "meter";
  ASSERT_TRUE(store->create_product(product).ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "CREATE TRIGGER full BEFORE INSERT ON releases "
                         "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  const std::string images = (dir_ / "failing" / "images").string();
  HostResult<std::unique_ptr<DirectoryArtifactStore>> artifacts =
      DirectoryArtifactStore::open((dir_ / "failing").string());
  ASSERT_TRUE(artifacts.ok()) << artifacts.error().to_string();
  ReleaseService releases(*store, *keys_, **artifacts);
  const ImageFile file = incoming(image_);
  HostResult<Release> r = releases.upload(spec("1.0.0", 1), file, "alice", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("full"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(file.path));
  EXPECT_TRUE(std::filesystem::is_empty(images));
  EXPECT_TRUE(store->releases(std::nullopt)->empty());

  // An images folder gone bad under the server: the reason, and no path of the server's.
  std::filesystem::remove_all(images);
  std::ofstream(images) << "x";
  HostResult<Release> failed = releases.upload(spec("1.0.0", 1), image_, "alice", now_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kIoError);
  EXPECT_EQ(failed.error().message, "storing artifact " + sha256_hex(image_) + ": Not a directory");
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
