// The device's root store: provisioned once, each rotation verified before it is
// written, the old root kept when a rotation is refused, and a power cut at every
// flash operation of a run of rotations leaving a root that parses and is the last
// one installed or the one being installed.
#include "agent/root_keeper.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/posix/memory_flash.h"
#include "agent/testing/fault_flash.h"
#include "crypto/host/openssl_verifier.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::agent {
namespace {

using Bytes = std::vector<std::byte>;
namespace fx = manifest::testing;

// Two 4 KiB sectors, one root each: the A/B pair.
constexpr FlashGeometry kGeometry{2 * 4096, 4096, 8, std::byte{0xFF}};
constexpr std::uint32_t kSlot = 4096;

// Root v1 .. v`count`: each version adds a root key of its own and is signed by
// the previous version's key and its own (so every step is a valid rotation).
const std::vector<Bytes>& chain() {
  static const std::vector<Bytes> roots = [] {
    std::vector<Bytes> out;
    static std::vector<SigningKey> root_keys;
    for (int v = 1; v <= 6; ++v) root_keys.push_back(fx::new_key());
    for (std::uint32_t v = 1; v <= 6; ++v) {
      manifest::RootSpec spec;
      spec.version = v;
      spec.root_keys = {root_keys[v - 1].public_key()};
      spec.release_keys = {fx::keys().release_a.public_key()};
      std::vector<const SigningKey*> signers = {&root_keys[v - 1]};
      if (v > 1) signers.insert(signers.begin(), &root_keys[v - 2]);
      out.push_back(fx::sign_root(spec, signers));
    }
    return out;
  }();
  return roots;
}

struct Device {
  explicit Device(Flash& flash_in) : flash(flash_in) {}
  Flash& flash;
  OpenSslVerifier verifier;
  Bytes factory = chain()[0];
  SignedManifestChecker checker{factory, verifier, "acme", "rev-c"};
  Bytes buffer = Bytes(2 * RootKeeper::max_root_for(kSlot));
  RootKeeper keeper{flash, 0, kSlot, buffer, verifier, checker};
};

std::string error_of(const Result<void>& r) {
  return r.ok() ? "OK" : std::string(error_name(r.error()));
}

TEST(RootKeeperTest, StoresTheFactoryRootOnceThenLoadsWhatFlashHolds) {
  MemoryFlash flash(kGeometry);
  {
    Device d(flash);
    ASSERT_TRUE(d.keeper.open(chain()[0]).ok());
    EXPECT_EQ(d.keeper.root_version(), 1u);
    ASSERT_TRUE(d.keeper.install_root(chain()[1]).ok());
    EXPECT_EQ(d.keeper.root_version(), 2u);
    EXPECT_EQ(d.checker.trusted_root()->version, 2u);
  }
  // After a reset the stored root wins over the factory one.
  Device again(flash);
  ASSERT_TRUE(again.keeper.open(chain()[0]).ok());
  EXPECT_EQ(again.keeper.root_version(), 2u);
  EXPECT_EQ(Bytes(again.keeper.root().begin(), again.keeper.root().end()), chain()[1]);
}

TEST(RootKeeperTest, RefusedRotationsKeepTheTrustedRootInFlashAndInUse) {
  MemoryFlash flash(kGeometry);
  Device d(flash);
  ASSERT_TRUE(d.keeper.open(chain()[0]).ok());
  // v3 skips v2; v1 again; v2 with a changed byte; a v2 signed only by its own key.
  Bytes tampered = chain()[1];
  tampered[20] ^= std::byte{0x01};
  manifest::RootSpec unapproved =
      manifest::root_spec_of(fx::must(manifest::parse_root(chain()[1])));
  const SigningKey own = fx::new_key();
  unapproved.root_keys = {own.public_key()};
  const Bytes only_new_keys = fx::sign_root(unapproved, {&own});
  EXPECT_EQ(error_of(d.keeper.install_root(chain()[2])), "ROOT_VERSION_ROLLBACK");
  EXPECT_EQ(error_of(d.keeper.install_root(chain()[0])), "ROOT_VERSION_ROLLBACK");
  EXPECT_NE(error_of(d.keeper.install_root(tampered)), "OK");
  EXPECT_EQ(error_of(d.keeper.install_root(only_new_keys)), "ROOT_ROTATION_INVALID");
  EXPECT_EQ(error_of(d.keeper.install_root(Bytes(10, std::byte{1}))), "MANIFEST_MALFORMED");
  EXPECT_EQ(d.keeper.root_version(), 1u);
  Device again(flash);
  ASSERT_TRUE(again.keeper.open(chain()[0]).ok());
  EXPECT_EQ(again.keeper.root_version(), 1u);
  // The good rotation still goes through afterwards.
  EXPECT_EQ(error_of(again.keeper.install_root(chain()[1])), "OK");
}

TEST(RootKeeperTest, ARootLargerThanTheStoreIsRefusedBeforeAnythingIsWritten) {
  MemoryFlash flash(kGeometry);
  Device d(flash);
  ASSERT_TRUE(d.keeper.open(chain()[0]).ok());
  const Bytes huge(RootKeeper::max_root_for(kSlot) + 1, std::byte{0});
  EXPECT_EQ(error_of(d.keeper.install_root(huge)), "JOURNAL_RECORD_TOO_LARGE");
  EXPECT_EQ(d.keeper.root_version(), 1u);
}

TEST(RootKeeperTest, AFactoryRootThatDoesNotParseIsRefused) {
  MemoryFlash flash(kGeometry);
  Device d(flash);
  EXPECT_EQ(error_of(d.keeper.open(Bytes(40, std::byte{7}))), "MANIFEST_MALFORMED");
  EXPECT_EQ(d.checker.trusted_root(), nullptr);
}

// Rotations v1 -> v6 with power cut after every flash operation: after each cut
// the device boots with the last root it completed installing or the one it was
// installing (both verified), never with none, and rotates on from there.
TEST(RootKeeperTest, SurvivesPowerCutAtEveryFlashOperation) {
  const auto run = [](FaultFlash& flash, Device& d, int& completed) {
    if (!d.keeper.open(chain()[0]).ok()) return;
    completed = static_cast<int>(d.keeper.root_version());
    for (std::size_t v = d.keeper.root_version(); v < chain().size(); ++v) {
      if (!d.keeper.install_root(chain()[v]).ok()) return;
      completed = static_cast<int>(v + 1);
    }
    (void)flash;
  };
  std::uint64_t total = 0;
  {
    MemoryFlash memory(kGeometry);
    FaultFlash flash(memory);
    Device d(flash);
    int completed = 0;
    run(flash, d, completed);
    ASSERT_EQ(completed, 6);
    total = flash.mutating_ops();
  }
  ASSERT_GE(total, 6u * 2);  // an erase and a write per root at least
  for (std::uint64_t cut = 0; cut < total; ++cut) {
    SCOPED_TRACE("power cut after flash operation " + std::to_string(cut));
    MemoryFlash memory(kGeometry);
    FaultFlash flash(memory);
    int completed = 0;
    {
      Device d(flash);
      flash.cut_power_after(cut);
      run(flash, d, completed);
      ASSERT_FALSE(flash.powered());
    }
    flash.power_on();
    Device rebooted(flash);
    ASSERT_EQ(error_of(rebooted.keeper.open(chain()[0])), "OK");
    const int seen = static_cast<int>(rebooted.keeper.root_version());
    ASSERT_TRUE(seen == completed || seen == completed + 1 || (completed == 0 && seen == 1))
        << "completed v" << completed << ", booted with v" << seen;
    const ByteView root = rebooted.keeper.root();
    ASSERT_EQ(Bytes(root.begin(), root.end()), chain()[static_cast<std::size_t>(seen - 1)]);
    int finished = 0;
    run(flash, rebooted, finished);
    ASSERT_EQ(finished, 6);
  }
  std::printf("[ root store ] %llu power-cut points covered, each booted with a verified root\n",
              static_cast<unsigned long long>(total));
}

}  // namespace
}  // namespace updraft::agent
