// The device's trusted root metadata, kept in flash, and its rotation (portable, no
// heap; docs/formats/manifest.md, "Root rotation on a device").
//
// The root lives in a RecordStore of its own: two flash sectors, each new version
// in the next erased slot (with one slot per sector: the A/B pair of the boot
// state's kind), and a sector erased only when it holds no longer the latest root.
// A new root is verified against the trusted one (manifest::verify_root_rotation),
// written, and only then trusted, so a power cut at any flash operation leaves the
// old root or the new one in flash, never neither. The SignedManifestChecker is
// pointed at each root trusted, so the next manifest is checked against it.
//
// RAM: this object (~700 bytes on a Cortex-M4: the candidate's parsed RootMetadata)
// and the caller's buffer of two roots; < 1.5 KB of stack plus the verifier's. The
// trusted root's parse is the checker's. Not thread-safe.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"
#include "agent/record_store.h"
#include "agent/signed_manifest_checker.h"
#include "agent/update_target.h"
#include "crypto/signature_verifier.h"
#include "manifest/root_metadata.h"

namespace updraft::agent {

class RootKeeper final : public RootUpdater {
 public:
  // Root records in [offset, offset + 2 * sector size) of `flash`, one per
  // `slot_size` bytes (dividing the sector size): the largest root kept is
  // slot_size - RecordStore::kOverhead bytes. `buffer` holds the trusted root and a
  // candidate: 2 * that many bytes. Everything must outlive the keeper.
  RootKeeper(Flash& flash, std::uint32_t offset, std::uint32_t slot_size, MutableByteView buffer,
             SignatureVerifier& verifier, SignedManifestChecker& checker);

  static constexpr std::uint32_t max_root_for(std::uint32_t slot_size) {
    return slot_size - RecordStore::kOverhead;
  }

  // Loads the trusted root from flash and hands it to the checker. A device with no
  // root stored yet (new from the factory, or both records lost) stores
  // `factory_root` first. kManifestMalformed if the root does not parse,
  // kJournalRecordTooLarge if it does not fit, flash errors as they come.
  Result<void> open(ByteView factory_root);

  // The trusted root's bytes (empty before open()).
  ByteView root() const;

  std::uint32_t root_version() const override;
  MutableByteView root_buffer() override;
  // See RootUpdater. kJournalRecordTooLarge for a root larger than the store's
  // slots; kManifestMalformed before open() succeeded.
  Result<void> install_root(ByteView root) override;

 private:
  MutableByteView half(int which) const;
  // Copies `bytes` into the other half, then trusts them there.
  Result<void> trust(ByteView bytes);

  RecordStore store_;
  std::uint32_t max_root_;
  MutableByteView buffer_;
  SignatureVerifier& verifier_;
  SignedManifestChecker& checker_;
  int current_ = 0;  // the half of `buffer_` holding the trusted root
  std::uint32_t size_ = 0;
  manifest::RootMetadata candidate_{};
};

}  // namespace updraft::agent
