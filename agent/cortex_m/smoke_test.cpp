#include "agent/cortex_m/smoke_test.h"

#include <algorithm>
#include <cstring>

#include "agent/cortex_m/semihosting.h"
#include "agent/cortex_m/stack_usage.h"
#include "agent/cortex_m/systick_counter.h"
#include "crypto/constant_time.h"
#include "crypto/mbedtls/mbedtls_verifier.h"
#include "crypto/sha256.h"
#include "delta/patch/patcher.h"
#include "manifest/manifest.h"

// From testdata.S and mps2_an386.ld.
extern "C" {
extern const std::byte updraft_testdata_old_image[], updraft_testdata_old_image_end[];
extern const std::byte updraft_testdata_patch[], updraft_testdata_patch_end[];
extern const std::byte updraft_testdata_manifest[], updraft_testdata_manifest_end[];
extern const std::byte updraft_testdata_release_key[], updraft_testdata_release_key_end[];
extern const std::byte updraft_testdata_thumb2_old_image[], updraft_testdata_thumb2_old_image_end[];
extern const std::byte updraft_testdata_thumb2_patch[], updraft_testdata_thumb2_patch_end[];
extern std::byte __slot_b_start[], __slot_b_size[];
}

namespace updraft::cortex_m {
namespace {

// The payload a radio packet carries (an 802.15.4 frame leaves about this much).
// An odd size splits the patch's headers and frames at arbitrary points.
constexpr std::size_t kChunkBytes = 61;

// The RAM budget of the mcu-tiny profile; the patch header says how much of it
// the patcher needs.
constexpr std::size_t kWorkspaceBytes = 8 * 1024;
alignas(4) std::byte workspace[kWorkspaceBytes];

// Static rather than on the 2 KB stack (424 bytes). Points into the manifest's bytes.
manifest::Manifest release_manifest;

// Slot A, the running image, read in place from flash.
class FlashImageReader final : public delta::ImageReader {
 public:
  explicit FlashImageReader(ByteView image) : image_(image) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(image_.size()); }
  Result<void> read(std::uint32_t offset, MutableByteView out) override {
    if (offset > image_.size() || out.size() > image_.size() - offset) {
      return ErrorCode::kFlashOutOfRange;
    }
    std::memcpy(out.data(), image_.data() + offset, out.size());
    return {};
  }

 private:
  ByteView image_;
};

// Slot B with NOR flash's rules: erased to 0xFF first, and only erased bytes
// may be written, so a patcher that wrote a byte twice would fail here too.
class SlotWriter final : public delta::ImageWriter {
 public:
  explicit SlotWriter(MutableByteView slot) : slot_(slot) {
    std::memset(slot_.data(), 0xFF, slot_.size());
  }
  Result<void> write(std::uint32_t offset, ByteView data) override {
    if (offset > slot_.size() || data.size() > slot_.size() - offset) {
      return ErrorCode::kFlashOutOfRange;
    }
    const MutableByteView target = slot_.subspan(offset, data.size());
    if (!std::all_of(target.begin(), target.end(),
                     [](std::byte b) { return b == std::byte{0xFF}; })) {
      return ErrorCode::kFlashNotErased;
    }
    std::memcpy(target.data(), data.data(), data.size());
    return {};
  }

 private:
  MutableByteView slot_;
};

// Feeds the patch as a radio delivers it: each packet lands in a receive buffer
// and goes to the patcher, which stops early at each checkpoint (where an agent
// would journal its progress) and is then fed the rest of the packet.
Result<void> feed_in_chunks(delta::Patcher& patcher, ByteView patch, std::uint32_t& checkpoints) {
  std::byte packet[kChunkBytes];
  for (std::size_t pos = 0; pos < patch.size();) {
    const std::size_t n = std::min(kChunkBytes, patch.size() - pos);
    std::memcpy(packet, patch.data() + pos, n);
    pos += n;
    for (ByteView pending(packet, n); !pending.empty();) {
      UPDRAFT_TRY_ASSIGN(const delta::Patcher::FeedResult fed, patcher.feed(pending));
      pending = pending.subspan(fed.consumed);
      if (fed.checkpoint) ++checkpoints;
    }
  }
  return patcher.finish();
}

// One signature check in an arena of `arena_bytes` at the front of the workspace.
Result<void> verify_in(std::size_t arena_bytes, ByteView key, const manifest::SignatureEntry& entry,
                       ByteView signature) {
  MbedTlsVerifier verifier(MutableByteView(workspace, arena_bytes));
  return verifier.verify(entry.algorithm, key, release_manifest.signed_region, signature);
}

// The least arena with which the signature still verifies. mbedTLS's allocator takes
// the first free block that fits, so a smaller arena serves the same allocations at
// the same places until one no longer fits: the need is one threshold
// (crypto/mbedtls/mbedtls_verifier_test.cpp tries every size), found by bisection.
Result<std::size_t> least_arena(ByteView key, const manifest::SignatureEntry& entry) {
  std::size_t fails = 0;
  std::size_t works = kWorkspaceBytes;
  while (works - fails > 4) {
    const std::size_t middle = (fails + works) / 2 / 4 * 4;
    const Result<void> verified = verify_in(middle, key, entry, entry.signature);
    if (verified.ok()) {
      works = middle;
    } else if (verified.error() == ErrorCode::kCryptoWorkspaceTooSmall) {
      fails = middle;
    } else {
      return verified.error();
    }
  }
  return works;
}

// What an agent does before it downloads anything: checks the release manifest's
// signature with the key it trusts. The verifier borrows the patcher's workspace,
// idle until the manifest is accepted. Prints the figures; true on success.
// Not inlined, like apply_patch(): each keeps its locals (the Patcher, 376 bytes) in
// its own frame, so one's stack does not sit under the other's.
[[gnu::noinline]] bool check_manifest_signature(Line& line) {
  const ByteView bytes(updraft_testdata_manifest, updraft_testdata_manifest_end);
  const ByteView key(updraft_testdata_release_key, updraft_testdata_release_key_end);
  if (const Result<void> parsed = manifest::parse_manifest(bytes, release_manifest); !parsed.ok()) {
    (line << "smoke: FAIL: manifest does not parse: error " << error_number(parsed.error()))
        .print();
    return false;
  }
  const manifest::SignatureEntry& entry = release_manifest.signatures.entries[0];
  if (release_manifest.signatures.count != 1 ||
      entry.algorithm != SignatureAlgorithm::kEcdsaP256Sha256) {
    (line << "smoke: FAIL: the manifest should carry one ECDSA P-256 signature").print();
    return false;
  }

  paint_stack();
  const std::size_t caller_stack = stack_depth();
  SysTickCounter::start();
  const Result<void> verified = verify_in(kWorkspaceBytes, key, entry, entry.signature);
  const std::uint64_t verify_ticks = SysTickCounter::ticks();
  const std::size_t verify_stack = stack_used() - caller_stack;
  if (!verified.ok()) {
    (line << "smoke: FAIL: manifest signature: error " << error_number(verified.error())).print();
    return false;
  }
  // A verifier that said yes to everything would pass the line above.
  std::byte forged[kSignatureSize];
  std::memcpy(forged, entry.signature.data(), sizeof(forged));
  forged[kSignatureSize - 1] ^= std::byte{0x01};
  const Result<void> refused = verify_in(kWorkspaceBytes, key, entry, forged);
  if (refused.ok() || refused.error() != ErrorCode::kSignatureInvalid) {
    (line << "smoke: FAIL: a forged signature was not refused as invalid").print();
    return false;
  }
  const Result<std::size_t> arena = least_arena(key, entry);
  if (!arena.ok()) {
    (line << "smoke: FAIL: arena search: error " << error_number(arena.error())).print();
    return false;
  }

  (line << "smoke: manifest " << bytes.size() << " B for " << release_manifest.product << " "
        << release_manifest.version_text << ": ECDSA P-256 signature valid, a forged one refused")
      .print();
  (line << "smoke: signature: arena " << *arena << " of " << kWorkspaceBytes
        << " B at the least, stack " << verify_stack << " B (deepest "
        << caller_stack + verify_stack << " of " << stack_size() << " B), MbedTlsVerifier object "
        << sizeof(MbedTlsVerifier) << " B")
      .print();
  if (*arena > MbedTlsVerifier::kArenaBytes) {
    (line << "smoke: FAIL: needs more arena than MbedTlsVerifier::kArenaBytes ("
          << MbedTlsVerifier::kArenaBytes << " B)")
        .print();
    return false;
  }
  (line << "smoke: ticks: verify " << verify_ticks).print();
  return true;
}

// Applies `patch` to `old_image` into slot B and checks the result against the
// patch header and, when given, the signed manifest's hash. Prints the figures,
// each line after `label`; true on success.
[[gnu::noinline]] bool apply_patch(Line& line, const char* label, ByteView old_image,
                                   ByteView patch, const Sha256Digest* manifest_hash) {
  const MutableByteView slot(__slot_b_start, reinterpret_cast<std::uintptr_t>(__slot_b_size));
  (line << label << " old image " << old_image.size() << " B, patch " << patch.size()
        << " B, fed in " << kChunkBytes << "-byte chunks")
      .print();

  FlashImageReader reader(old_image);
  SlotWriter writer(slot);
  delta::Patcher patcher(reader, writer, workspace);
  std::uint32_t checkpoints = 0;
  paint_stack();
  const std::size_t caller_stack = stack_depth();
  SysTickCounter::start();
  const Result<void> applied = feed_in_chunks(patcher, patch, checkpoints);
  const std::uint64_t apply_ticks = SysTickCounter::ticks();
  const std::size_t apply_stack = stack_used() - caller_stack;
  if (!applied.ok()) {
    // The number only, as a device reports it: error_name() would link the whole
    // catalogue's text (about 5 KB of flash). core/error_code.h has the names.
    (line << label << " FAIL: apply stopped at new offset " << patcher.new_offset()
          << " with error " << error_number(applied.error()))
        .print();
    return false;
  }

  // The patcher checked its own output hash; this reads slot B back, as a
  // bootloader would before booting it.
  const delta::PatchHeader& header = patcher.header();
  paint_stack();
  SysTickCounter::start();
  const Sha256Digest digest = Sha256::digest(slot.first(header.new_size));
  const std::uint64_t hash_ticks = SysTickCounter::ticks();
  const std::size_t hash_stack = stack_used() - caller_stack;
  (line << label << " new image " << header.new_size << " B, sha256 ").hex(digest).print();
  if (!constant_time_equal(digest, header.new_hash)) {
    (line << label << " FAIL: patch header wants sha256 ").hex(header.new_hash).print();
    return false;
  }
  if (manifest_hash != nullptr && !constant_time_equal(digest, *manifest_hash)) {
    (line << label << " FAIL: the signed manifest wants sha256 ").hex(*manifest_hash).print();
    return false;
  }

  (line << label << " checkpoints " << checkpoints << ", workspace " << header.workspace_bytes
        << " of " << kWorkspaceBytes << " B (relocation map: " << header.reloc_count
        << " entries), Patcher object " << sizeof(delta::Patcher) << " B")
      .print();
  (line << label << " stack: smoke test " << caller_stack << " B, then apply " << apply_stack
        << " B or sha256 " << hash_stack << " B more; deepest "
        << caller_stack + std::max(apply_stack, hash_stack) << " of " << stack_size() << " B")
      .print();
  // Ticks are core cycles on a device; see systick_counter.h for what they are in QEMU.
  (line << label << " ticks: apply " << apply_ticks << ", sha256 of slot B " << hash_ticks).print();
  (line << label << " PASS: slot B matches the new-image sha256 of the patch header"
        << (manifest_hash != nullptr ? " and of the signed manifest" : ""))
      .print();
  return true;
}

}  // namespace

bool run_smoke_test() {
  Line line;
  // The signed release (an ESP8266 image pair), then a Cortex-M image whose patch
  // carries a relocation map, so the device predicts moved calls and pointers.
  return check_manifest_signature(line) &&
         apply_patch(line,
                     "smoke:", ByteView(updraft_testdata_old_image, updraft_testdata_old_image_end),
                     ByteView(updraft_testdata_patch, updraft_testdata_patch_end),
                     &release_manifest.image_hash) &&
         apply_patch(
             line, "smoke: thumb2:",
             ByteView(updraft_testdata_thumb2_old_image, updraft_testdata_thumb2_old_image_end),
             ByteView(updraft_testdata_thumb2_patch, updraft_testdata_thumb2_patch_end), nullptr);
}

}  // namespace updraft::cortex_m
