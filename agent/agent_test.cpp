// The agent end to end on a simulated device: real boot logic, real patcher, real
// signed manifests checked against a real root, NOR flash that loses power after
// any operation, and a scripted link with the faults a real one has.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "agent/download_journal.h"
#include "agent/record_store.h"
#include "agent/signed_manifest_checker.h"
#include "agent/slot_io.h"
#include "agent/testing/scripted_transport.h"
#include "agent/testing/sim_device.h"
#include "crypto/host/openssl_verifier.h"
#include "delta/diff/diff.h"
#include "delta/testing/test_images.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::agent {
namespace {

using Bytes = std::vector<std::byte>;
namespace fx = manifest::testing;

constexpr FlashGeometry kGeometry{96 * 4096, 4096, 8, std::byte{0xFF}};
constexpr std::uint32_t kCapacity = 40 * 4096;
constexpr char kProduct[] = "acme-thermostat";
constexpr char kHardware[] = "board-rev-c";
constexpr char kArtifact[] = "/artifacts/v2";

// Two releases, each larger than two mcu-tiny frames, so a delta journals
// checkpoints mid-way and a full image journals several offsets.
const Bytes& v1() {
  static const Bytes image = test_images::firmware_like(150'000, 41);
  return image;
}
const Bytes& v2() {
  static const Bytes image =
      test_images::insert_blocks(test_images::spread_changes(v1(), 300, 900, 42), 4, 2000, 43);
  return image;
}
const Bytes& patch_v1_v2() {
  static const Bytes patch = [] {
    delta::DiffOptions options;
    options.profile = delta::Profile::kMcuTiny;
    return fx::must(delta::make_patch(v1(), v2(), options));
  }();
  return patch;
}

// What the operator signs for v2, as the server answers one check-in.
manifest::ManifestSpec v2_spec(ArtifactKind kind) {
  manifest::ManifestSpec spec;
  spec.product = kProduct;
  spec.hardware = {"board-rev-b", kHardware};
  spec.version = "2.0.0";
  spec.security_counter = 2;
  spec.image_size = static_cast<std::uint32_t>(v2().size());
  spec.image_hash = Sha256::digest(v2());
  if (kind == ArtifactKind::kPatch) {
    spec.delta =
        manifest::DeltaInfo{Sha256::digest(v1()), static_cast<std::uint32_t>(patch_v1_v2().size()),
                            Sha256::digest(patch_v1_v2())};
  }
  return spec;
}

struct Scenario {
  const char* name;
  ArtifactKind kind;
  bool healthy;                  // false: v2 fails its health check and rolls back
  std::uint32_t drop_every = 0;  // the link drops after every this many bytes
  std::uint32_t block_size = 0;  // a block transport (CoAP) with a staging area
  // The device keeps root v1 in its root store; the server serves root v2 (new
  // release key c, release key a revoked) and signs v2's manifest with key c.
  bool rotate_root = false;
};

// Root v2 of a rotation: root key c, release key c, release key a revoked. Signed
// by root key a (v1's threshold) and c (its own), unless `signers` says otherwise.
manifest::RootSpec root_v2_spec() {
  manifest::RootSpec spec;
  spec.version = 2;
  spec.root_keys = fx::public_keys({&fx::keys().root_c});
  spec.release_keys = fx::public_keys({&fx::keys().release_c});
  spec.revoked = {manifest::key_id_of(fx::keys().release_a.public_key())};
  return spec;
}
Bytes root_v2(const std::vector<const SigningKey*>& signers = {&fx::keys().root_a,
                                                               &fx::keys().root_c}) {
  return fx::sign_root(root_v2_spec(), signers);
}

constexpr std::uint32_t kStagingCapacity = 12 * 4096;

// The scenario's name in test listings, rather than its bytes.
void PrintTo(const Scenario& scenario, std::ostream* os) { *os << scenario.name; }

// One simulated device running v1 (1.0.0, counter 1), offered v2 by a scripted server.
class Rig {
 public:
  explicit Rig(const Scenario& scenario, const UpdatePolicy& policy = {}) : scenario_(scenario) {
    EXPECT_TRUE(checker_.init().ok());
    SimDevice::Options options;
    options.geometry = kGeometry;
    options.image_capacity = kCapacity;
    options.config.full_checkpoint_bytes = 16 * 1024;
    options.config.policy = policy;
    if (scenario.block_size != 0) options.staging_capacity = kStagingCapacity;
    if (scenario.rotate_root) {
      options.factory_root = root_;
      options.root_checker = &checker_;
      options.root_verifier = &verifier_;
      transport_.add_root(root_v2());
      signers_ = {&fx::keys().release_c};
    }
    transport_.set_block_size(scenario.block_size);
    device_ = std::make_unique<SimDevice>(options, transport_, checker_, v1(), "1.0.0", 1);
    device_->set_healthy(scenario.healthy);
    transport_.faults().drop_every = scenario.drop_every;
    offer(v2_spec(scenario.kind), signers_);
  }

  // Offers v2 again (a server retrying a deployment), signed as `spec` says.
  void offer(manifest::ManifestSpec spec,
             const std::vector<const SigningKey*>& signers = {&fx::keys().release_a}) {
    CheckInAnswer answer;
    answer.kind = scenario_.kind;
    std::memcpy(answer.artifact.data(), kArtifact, sizeof kArtifact);
    answer.artifact_size = static_cast<std::uint32_t>(artifact().size());
    answer.poll_seconds = 60;
    const std::uint64_t now = device_->unix_seconds();
    transport_.set_offer(answer, artifact(), [spec, signers, now](const DeviceStatus& status) {
      manifest::ManifestSpec answer_spec = spec;
      answer_spec.check_in = manifest::Freshness{now + 300, status.nonce};
      return fx::sign_manifest(answer_spec, signers);
    });
  }

  const Bytes& artifact() const {
    return scenario_.kind == ArtifactKind::kPatch ? patch_v1_v2() : v2();
  }

  // Called once, right after the first power cut, before the device powers on again.
  std::function<void()> on_power_cut;

  // Powers the device on and runs agent cycles until the deployment is over: the
  // server withdrew its offer (success or rollback reported) and no trial is
  // pending. Every boot must start a slot that holds v1 or v2 in full.
  testing::AssertionResult settle(int max_steps = 60) {
    bool need_boot = true;
    bool cut_seen = false;
    for (int step = 0; step < max_steps; ++step) {
      if (!device_->flash().powered() && !cut_seen) {
        cut_seen = true;
        if (on_power_cut) on_power_cut();
      }
      if (need_boot) {
        ++boots_;
        Result<CycleResult> booted = device_->power_on();
        if (!booted.ok()) {
          if (booted.error() == ErrorCode::kFlashPowerLost) continue;  // cut inside the bootloader
          return testing::AssertionFailure() << "bricked: " << error_name(booted.error());
        }
        if (!boots_a_release())
          return testing::AssertionFailure() << "booted a slot holding neither release";
        need_boot = !device_->flash().powered() || booted->next == CycleResult::Next::kReboot;
        continue;
      }
      if (!transport_.offering() && !trial_pending()) return testing::AssertionSuccess();
      const CycleResult cycle = device_->cycle();
      last_cycle_ = cycle;
      need_boot = !device_->flash().powered() || cycle.next == CycleResult::Next::kReboot;
    }
    return testing::AssertionFailure() << "did not settle in " << max_steps << " steps";
  }

  // The image the running slot holds, per the bytes in flash.
  bool runs(const Bytes& image) {
    const std::optional<BootDecision> booted = device_->booted();
    if (!booted) return false;
    const std::vector<std::byte>& raw = device_->raw_flash().raw();
    const std::uint32_t at = device_->layout().slot_offset[booted->slot];
    return std::memcmp(raw.data() + at, image.data(), image.size()) == 0;
  }

  // The last terminal report (success, failure, rollback), or nullptr.
  const Report* last_outcome() const {
    const auto& reports = transport_.reports();
    for (auto it = reports.rbegin(); it != reports.rend(); ++it) {
      if (it->phase == Phase::kSuccess || it->phase == Phase::kFailure ||
          it->phase == Phase::kRolledBack) {
        return &*it;
      }
    }
    return nullptr;
  }

  // Artifact bytes the device must still fetch, judged from what its flash says
  // now: nothing once the image is installed, the rest after the journaled
  // checkpoint while downloading, everything without a journal.
  testing::AssertionResult bytes_still_needed(std::uint64_t& out) {
    out = 0;
    if (!transport_.offering()) return testing::AssertionSuccess();
    const auto size = static_cast<std::uint32_t>(artifact().size());
    RecordStore store(device_->raw_flash(), device_->layout().journal_offset, kRecordSlotSize);
    std::byte bytes[kJournalBytes];
    Result<std::uint32_t> n = store.load(bytes);
    if (!n.ok()) {
      if (n.error() != ErrorCode::kJournalEmpty) {
        return testing::AssertionFailure() << "journal unreadable: " << error_name(n.error());
      }
      out = size;
      return testing::AssertionSuccess();
    }
    Result<DownloadJournal> journal = decode_journal(ByteView(bytes, *n));
    if (!journal.ok())
      return testing::AssertionFailure() << "journal corrupt: " << error_name(journal.error());
    out = size;
    if (journal->phase == DownloadJournal::Phase::kAwaitingTrial ||
        journal->phase == DownloadJournal::Phase::kApplying) {
      out = 0;  // installed, or the whole patch is in the staging area
    }
    if (journal->phase != DownloadJournal::Phase::kDownloading || !journal->has_checkpoint) {
      return testing::AssertionSuccess();
    }
    if (journal->kind == ArtifactKind::kFullImage || journal->staged) {
      // Bytes in flash: the device goes on after them, or from their sector's
      // start when the cut hit a write past them in that sector.
      const std::uint32_t sector = kGeometry.sector_size;
      const std::uint32_t base = journal->staged ? device_->layout().staging_offset
                                                 : device_->layout().slot_offset[journal->target];
      std::uint32_t resume = journal->full_offset;
      const std::uint32_t sector_end = (resume + sector - 1) / sector * sector;
      Result<bool> clean = region_erased(device_->raw_flash(), base + resume, sector_end - resume);
      if (!clean.ok()) return testing::AssertionFailure() << "flash unreadable";
      if (!*clean) resume = resume / sector * sector;
      out = size - resume;
      return testing::AssertionSuccess();
    }
    // The resume point of a delta is inside the patcher's checkpoint.
    SlotReader reader(device_->raw_flash(), device_->layout().slot_offset[0],
                      static_cast<std::uint32_t>(v1().size()));
    SlotWriter unused(device_->raw_flash(), device_->layout().slot_offset[1],
                      device_->layout().slot_size);
    std::vector<std::byte> workspace(8 * 1024);
    delta::Patcher patcher(reader, unused, workspace);
    if (!patcher.resume(journal->checkpoint).ok())
      return testing::AssertionFailure() << "checkpoint unusable";
    out = size - patcher.checkpoint_patch_offset();
    return testing::AssertionSuccess();
  }

  SimDevice& device() { return *device_; }
  ScriptedTransport& transport() { return transport_; }
  const std::vector<const SigningKey*>& signers() const { return signers_; }
  // The root version in the device's root store, as a reset would load it (0: none).
  std::uint32_t stored_root_version() {
    RecordStore store(device_->raw_flash(), device_->root_store_offset(), kGeometry.sector_size);
    std::vector<std::byte> bytes(kGeometry.sector_size);
    Result<std::uint32_t> n = store.load(bytes);
    if (!n.ok()) return 0;
    Result<manifest::RootMetadata> root = manifest::parse_root(ByteView(bytes.data(), *n));
    return root.ok() ? root->version : 0;
  }
  const CycleResult& last_cycle() const { return last_cycle_; }
  int boots() const { return boots_; }

 private:
  bool boots_a_release() { return runs(v1()) || runs(v2()); }

  bool trial_pending() {
    BootLogic boot(device_->raw_flash(), device_->layout());
    Result<BootState> state = boot.load();
    return !state.ok() || state->trial_state != TrialState::kNone;
  }

  Scenario scenario_;
  Bytes root_ = fx::root_v1();
  OpenSslVerifier verifier_;
  SignedManifestChecker checker_{root_, verifier_, kProduct, kHardware};
  ScriptedTransport transport_;
  std::vector<const SigningKey*> signers_ = {&fx::keys().release_a};
  std::unique_ptr<SimDevice> device_;
  CycleResult last_cycle_{};
  int boots_ = 0;
};

// --- Power cut after every flash operation.

class PowerCutTest : public testing::TestWithParam<Scenario> {
 protected:
  // Settles, then, if a cut on the confirm step reverted a healthy trial, lets the
  // server retry once: the image is still in the other slot, so no byte is fetched.
  testing::AssertionResult finish(Rig& rig) {
    testing::AssertionResult settled = rig.settle();
    if (!settled) return settled;
    const Report* outcome = rig.last_outcome();
    if (GetParam().healthy && outcome != nullptr && outcome->phase == Phase::kRolledBack) {
      rig.offer(v2_spec(GetParam().kind), rig.signers());
      return rig.settle();
    }
    return settled;
  }

  void expect_final_state(Rig& rig) {
    const Report* outcome = rig.last_outcome();
    ASSERT_NE(outcome, nullptr);
    if (GetParam().rotate_root) {
      EXPECT_EQ(rig.stored_root_version(), 2u);
    }
    if (GetParam().healthy) {
      EXPECT_TRUE(rig.runs(v2()));
      EXPECT_EQ(outcome->phase, Phase::kSuccess);
      EXPECT_STREQ(outcome->running.data(), "2.0.0");
    } else {
      EXPECT_TRUE(rig.runs(v1()));
      EXPECT_EQ(outcome->phase, Phase::kRolledBack);
      EXPECT_EQ(outcome->error, error_number(ErrorCode::kAgentTrialFailed));
      EXPECT_STREQ(outcome->running.data(), "1.0.0");
    }
  }
};

TEST_P(PowerCutTest, EveryCutEndsOnAValidImageAndRefetchesNothingBeforeTheLastCheckpoint) {
  if (GetParam().block_size != 0 && GetParam().kind == ArtifactKind::kPatch) {
    ASSERT_LE(patch_v1_v2().size(), kStagingCapacity) << "the scenario must stage the patch";
  }
  Rig clean(GetParam());
  ASSERT_TRUE(finish(clean));
  ASSERT_NO_FATAL_FAILURE(expect_final_state(clean));
  ASSERT_EQ(clean.transport().bytes_served(), clean.artifact().size())
      << "a clean run fetches each byte once";
  const std::uint64_t total_ops = clean.device().flash().mutating_ops();
  ASSERT_GT(total_ops, 100u);

  for (std::uint64_t cut = 0; cut < total_ops; ++cut) {
    SCOPED_TRACE("power cut after flash operation " + std::to_string(cut));
    Rig rig(GetParam());
    rig.device().flash().cut_power_after(cut);
    std::uint64_t served_at_cut = 0, still_needed = 0;
    bool cut_happened = false;
    rig.on_power_cut = [&] {
      cut_happened = true;
      served_at_cut = rig.transport().bytes_served();
      EXPECT_TRUE(rig.bytes_still_needed(still_needed));
    };
    ASSERT_TRUE(finish(rig));
    ASSERT_TRUE(cut_happened);
    ASSERT_NO_FATAL_FAILURE(expect_final_state(rig));
    ASSERT_EQ(rig.transport().bytes_served() - served_at_cut, still_needed)
        << "after the cut the device fetched more than the bytes after its last checkpoint";
  }
  std::printf("[ %s ] %llu power-cut points covered, each ended on a valid image\n",
              GetParam().name, static_cast<unsigned long long>(total_ops));
  RecordProperty("cut_points", static_cast<int>(total_ops));
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, PowerCutTest,
    testing::Values(Scenario{"full_image", ArtifactKind::kFullImage, true},
                    Scenario{"delta", ArtifactKind::kPatch, true},
                    Scenario{"delta_with_resume", ArtifactKind::kPatch, true, 5000},
                    Scenario{"full_image_in_blocks", ArtifactKind::kFullImage, true, 0, 1024},
                    Scenario{"delta_staged_in_blocks", ArtifactKind::kPatch, true, 0, 1024},
                    Scenario{"rollback_after_failed_health_check", ArtifactKind::kPatch, false},
                    Scenario{"delta_after_root_rotation", ArtifactKind::kPatch, true, 0, 0, true}),
    [](const testing::TestParamInfo<Scenario>& p) { return std::string(p.param.name); });

// --- Faults that must leave the device on its running image, with the right number.

constexpr Scenario kDelta{"delta", ArtifactKind::kPatch, true};
constexpr Scenario kFull{"full_image", ArtifactKind::kFullImage, true};

// Runs one cycle that must fail with `expected`, then checks that the device did
// not reboot, still runs v1 after a reset, and reported the failure with its
// number. A manifest that failed its checks names no target: nothing it says is
// trusted, its version included.
void expect_refused(Rig& rig, ErrorCode expected, const char* target = "2.0.0") {
  ASSERT_TRUE(rig.device().power_on().ok());
  const CycleResult cycle = rig.device().cycle();
  EXPECT_EQ(error_name(cycle.error), error_name(expected));
  EXPECT_EQ(cycle.next, CycleResult::Next::kSleep);
  EXPECT_FALSE(cycle.installed);
  const Report* outcome = rig.last_outcome();
  ASSERT_NE(outcome, nullptr);
  EXPECT_EQ(outcome->phase, Phase::kFailure);
  EXPECT_EQ(outcome->error, error_number(expected));
  EXPECT_STREQ(outcome->running.data(), "1.0.0");
  EXPECT_STREQ(outcome->target.data(), target);
  ASSERT_TRUE(rig.device().power_on().ok());
  EXPECT_TRUE(rig.runs(v1()));
  EXPECT_FALSE(rig.device().booted()->trial);
}

TEST(AgentFaultTest, APatchByteDamagedInTransitIsFetchedAgainFromTheLastCheckpoint) {
  // Where the flipped byte lands decides which check sees it first: the decoder
  // (an op that cannot be) or the frame's CRC at its end. Either way the frame is
  // fetched again and the update completes; one bad byte no longer costs the
  // deployment.
  for (const std::size_t at : {patch_v1_v2().size() / 2, patch_v1_v2().size() - 3}) {
    SCOPED_TRACE("corrupt byte at " + std::to_string(at));
    Rig rig(kDelta);
    rig.transport().faults().corrupt_at = static_cast<std::int64_t>(at);
    rig.transport().faults().corrupt_times = 1;
    ASSERT_TRUE(rig.settle());
    EXPECT_TRUE(rig.runs(v2()));
    ASSERT_NE(rig.last_outcome(), nullptr);
    EXPECT_EQ(rig.last_outcome()->phase, Phase::kSuccess);
    EXPECT_GT(rig.transport().bytes_served(), patch_v1_v2().size()) << "the frame came twice";
  }
}

TEST(AgentFaultTest, AnAnswerDamagedInTransitIsAskedForAgainBeforeAnythingIsReported) {
  Rig rig(kDelta);
  rig.transport().faults().corrupt_manifests = 1;
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.runs(v2()));
  for (const Report& r : rig.transport().reports()) EXPECT_NE(r.phase, Phase::kFailure);
  // Damaged twice in a row, it is refused like a forgery, with its number.
  Rig twice(kDelta);
  twice.transport().faults().corrupt_manifests = 2;
  expect_refused(twice, ErrorCode::kSignatureInvalid, "");
}

TEST(AgentFaultTest, APatchDamagedAtTheSourceStopsTheCycleAfterThreeTriesKeepingTheJournal) {
  Rig rig(kDelta);
  rig.transport().faults().corrupt_at = static_cast<std::int64_t>(patch_v1_v2().size() - 3);
  expect_refused(rig, ErrorCode::kTransportRetriesExhausted);
  // The next cycle resumes from the last checkpoint rather than from zero.
  rig.transport().faults().corrupt_at = -1;
  const std::uint64_t before = rig.transport().bytes_served();
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.runs(v2()));
  EXPECT_LT(rig.transport().bytes_served() - before, patch_v1_v2().size());
}

TEST(AgentFaultTest, CorruptedFullImageByteIsRefusedByTheImageHash) {
  Rig rig(kFull);
  rig.transport().faults().corrupt_at = static_cast<std::int64_t>(v2().size() / 3);
  expect_refused(rig, ErrorCode::kHashMismatch);
}

TEST(AgentFaultTest, PatchForAnotherBaseIsRefusedBeforeWriting) {
  // The server mixed up its cache: the manifest names v1 as the source, but the
  // patch was made from another image.
  Rig rig(kDelta);
  delta::DiffOptions options;
  options.profile = delta::Profile::kMcuTiny;
  Bytes other_base = test_images::firmware_like(150'000, 99);
  Bytes wrong_patch = fx::must(delta::make_patch(other_base, v2(), options));
  manifest::ManifestSpec spec = v2_spec(ArtifactKind::kPatch);
  spec.delta->patch_size = static_cast<std::uint32_t>(wrong_patch.size());
  spec.delta->patch_hash = Sha256::digest(wrong_patch);
  CheckInAnswer answer;
  answer.kind = ArtifactKind::kPatch;
  std::memcpy(answer.artifact.data(), kArtifact, sizeof kArtifact);
  answer.artifact_size = static_cast<std::uint32_t>(wrong_patch.size());
  const std::uint64_t now = rig.device().unix_seconds();
  rig.transport().set_offer(answer, wrong_patch, [spec, now](const DeviceStatus& status) {
    manifest::ManifestSpec s = spec;
    s.check_in = manifest::Freshness{now + 300, status.nonce};
    return fx::sign_manifest(s, {&fx::keys().release_a});
  });
  expect_refused(rig, ErrorCode::kPatchWrongBase);
  // The patcher refused before writing a byte: the target slot is still erased.
  const std::vector<std::byte>& raw = rig.device().raw_flash().raw();
  const auto slot = raw.begin() + rig.device().layout().slot_offset[1];
  EXPECT_TRUE(std::all_of(slot, slot + rig.device().layout().slot_size,
                          [](std::byte b) { return b == std::byte{0xFF}; }));
}

TEST(AgentFaultTest, DeltaForAnotherSourceImageIsRefusedByTheManifest) {
  Rig rig(kDelta);
  manifest::ManifestSpec spec = v2_spec(ArtifactKind::kPatch);
  spec.delta->source_hash = Sha256::digest(test_images::firmware_like(1000, 5));
  rig.offer(spec);
  expect_refused(rig, ErrorCode::kManifestSourceMismatch, "");
  EXPECT_EQ(rig.transport().bytes_served(), 0u);
}

TEST(AgentFaultTest, ManifestSignedByAnUnknownKeyIsRefused) {
  Rig rig(kDelta);
  rig.offer(v2_spec(ArtifactKind::kPatch), {&fx::keys().stranger});
  expect_refused(rig, ErrorCode::kSignatureUnknownKey, "");
  EXPECT_EQ(rig.transport().bytes_served(), 0u);
}

TEST(AgentFaultTest, ManifestAlteredAfterSigningIsRefused) {
  Rig rig(kDelta);
  CheckInAnswer answer;
  answer.kind = ArtifactKind::kPatch;
  std::memcpy(answer.artifact.data(), kArtifact, sizeof kArtifact);
  answer.artifact_size = static_cast<std::uint32_t>(patch_v1_v2().size());
  const std::uint64_t now = rig.device().unix_seconds();
  rig.transport().set_offer(answer, patch_v1_v2(), [now](const DeviceStatus& status) {
    manifest::ManifestSpec spec = v2_spec(ArtifactKind::kPatch);
    spec.check_in = manifest::Freshness{now + 300, status.nonce};
    Bytes bytes = fx::sign_manifest(spec, {&fx::keys().release_a});
    bytes[12] ^= std::byte{0x01};  // inside the product name: still well-formed, no longer signed
    return bytes;
  });
  expect_refused(rig, ErrorCode::kSignatureInvalid, "");
}

TEST(AgentFaultTest, LowerSecurityCounterIsRefusedEvenWhenSigned) {
  Rig rig(kDelta);
  manifest::ManifestSpec spec = v2_spec(ArtifactKind::kPatch);
  spec.security_counter = 0;
  rig.offer(spec);
  expect_refused(rig, ErrorCode::kManifestRollback, "");
}

TEST(AgentFaultTest, ArtifactCutShortByTheServerIsTruncated) {
  Rig rig(kDelta);
  rig.transport().faults().truncate_at = static_cast<std::int64_t>(patch_v1_v2().size() - 100);
  expect_refused(rig, ErrorCode::kArtifactTruncated);
}

TEST(AgentFaultTest, LinkDroppingEveryFewKilobytesStillFetchesEachByteOnce) {
  Rig rig({"drops", ArtifactKind::kPatch, true, 3000});
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.runs(v2()));
  EXPECT_EQ(rig.transport().bytes_served(), patch_v1_v2().size());
}

TEST(AgentFaultTest, DeadLinkBacksOffAfterThreeAttemptsThenResumesFromTheCheckpoint) {
  Rig rig(kDelta);
  const auto dies_at = static_cast<std::int64_t>(patch_v1_v2().size() * 2 / 3);
  rig.transport().faults().down_after = dies_at;
  ASSERT_TRUE(rig.device().power_on().ok());
  const CycleResult cycle = rig.device().cycle();
  EXPECT_EQ(error_name(cycle.error), error_name(ErrorCode::kTransportRetriesExhausted));
  EXPECT_EQ(cycle.sleep_seconds, AgentConfig{}.backoff_seconds);
  EXPECT_EQ(rig.last_outcome()->error, error_number(ErrorCode::kTransportRetriesExhausted));

  std::uint64_t still_needed = 0;
  ASSERT_TRUE(rig.bytes_still_needed(still_needed));
  EXPECT_LT(still_needed, patch_v1_v2().size())
      << "a checkpoint was journaled before the link died";
  rig.transport().faults().link_down = false;
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.runs(v2()));
  EXPECT_EQ(rig.transport().bytes_served(), static_cast<std::uint64_t>(dies_at) + still_needed);
}

TEST(AgentFaultTest, LowBatteryDefersWithoutFetchingThenUpdatesOnceCharged) {
  UpdatePolicy policy;
  policy.battery_floor_percent = 30;
  Rig rig(kDelta, policy);
  ASSERT_TRUE(rig.device().power_on().ok());
  rig.device().agent().set_conditions(10, NetworkType::kNbIot);
  const CycleResult cycle = rig.device().cycle();
  EXPECT_EQ(error_name(cycle.error), error_name(ErrorCode::kAgentDeferredLowBattery));
  EXPECT_EQ(rig.transport().reports().back().phase, Phase::kDeferred);
  EXPECT_EQ(rig.transport().bytes_served(), 0u);
  rig.device().agent().set_conditions(80, NetworkType::kNbIot);
  EXPECT_TRUE(rig.device().cycle().installed);
}

// --- Root rotation at check-in (agent/root_keeper.h).

constexpr Scenario kRotation{"rotation", ArtifactKind::kPatch, true, 0, 0, true};

TEST(AgentRootRotationTest, ADeviceOnTheOldRootRotatesThenInstallsAReleaseSignedUnderTheNewOne) {
  Rig rig(kRotation);
  ASSERT_TRUE(rig.settle());
  EXPECT_TRUE(rig.runs(v2()));
  ASSERT_NE(rig.last_outcome(), nullptr);
  EXPECT_EQ(rig.last_outcome()->phase, Phase::kSuccess);
  EXPECT_EQ(rig.transport().roots_served(), 1);
  EXPECT_EQ(rig.stored_root_version(), 2u);
  EXPECT_EQ(rig.transport().last_status().root_version, 2u);
}

TEST(AgentRootRotationTest, WithoutTheRotationTheNewReleaseKeyIsUnknown) {
  // The same offer signed by key c, to a device that is never given root v2.
  Rig rig(kDelta);
  rig.offer(v2_spec(ArtifactKind::kPatch), {&fx::keys().release_c});
  expect_refused(rig, ErrorCode::kSignatureUnknownKey, "");
}

TEST(AgentRootRotationTest, ARotationNotSignedByTheOldThresholdIsRefusedAndTheOldRootKept) {
  Rig rig(kRotation);
  // The server holds a v2 that only its own key signed: v1's root keys never approved it.
  ScriptedTransport& transport = rig.transport();
  transport.add_root(root_v2({&fx::keys().root_c}));
  expect_refused(rig, ErrorCode::kRootRotationInvalid, "");
  EXPECT_EQ(rig.stored_root_version(), 1u);
  EXPECT_EQ(rig.transport().bytes_served(), 0u);
  EXPECT_EQ(rig.transport().last_status().root_version, 1u);
}

TEST(AgentRootRotationTest, AfterRotationAReleaseSignedByTheRevokedKeyIsRefused) {
  Rig rig(kRotation);
  rig.offer(v2_spec(ArtifactKind::kPatch), {&fx::keys().release_a});
  expect_refused(rig, ErrorCode::kSignatureKeyRevoked, "");
  EXPECT_EQ(rig.stored_root_version(), 2u) << "the rotation itself was good and is kept";
}

TEST(AgentRootRotationTest, ADeviceSeveralRootsBehindWalksThemInOneCycle) {
  Rig rig(kRotation);
  manifest::RootSpec v3 = root_v2_spec();
  v3.version = 3;
  v3.release_keys = fx::public_keys({&fx::keys().release_b});
  rig.transport().add_root(fx::sign_root(v3, {&fx::keys().root_c}));
  rig.offer(v2_spec(ArtifactKind::kPatch), {&fx::keys().release_b});
  ASSERT_TRUE(rig.device().power_on().ok());
  const CycleResult cycle = rig.device().cycle();
  EXPECT_EQ(error_name(cycle.error), error_name(ErrorCode::kOk));
  EXPECT_TRUE(cycle.installed);
  EXPECT_EQ(rig.transport().roots_served(), 2);
  EXPECT_EQ(rig.stored_root_version(), 3u);
}

}  // namespace
}  // namespace updraft::agent
