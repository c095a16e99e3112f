#include "agent/root_keeper.h"

#include <algorithm>
#include <cstring>

#include "manifest/verifier.h"

namespace updraft::agent {

RootKeeper::RootKeeper(Flash& flash, std::uint32_t offset, std::uint32_t slot_size,
                       MutableByteView buffer, SignatureVerifier& verifier,
                       SignedManifestChecker& checker)
    : store_(flash, offset, slot_size),
      max_root_(max_root_for(slot_size)),
      buffer_(buffer),
      verifier_(verifier),
      checker_(checker) {}

MutableByteView RootKeeper::half(int which) const {
  const std::size_t size = std::min<std::size_t>(max_root_, buffer_.size() / 2);
  return buffer_.subspan(static_cast<std::size_t>(which) * size, size);
}

ByteView RootKeeper::root() const { return half(current_).first(size_); }

std::uint32_t RootKeeper::root_version() const {
  const manifest::RootMetadata* trusted = checker_.trusted_root();
  return trusted == nullptr ? 0 : trusted->version;
}

MutableByteView RootKeeper::root_buffer() { return half(1 - current_); }

Result<void> RootKeeper::trust(ByteView bytes) {
  const MutableByteView next = half(1 - current_);
  if (bytes.size() > next.size()) return ErrorCode::kJournalRecordTooLarge;
  if (bytes.data() != next.data()) std::memmove(next.data(), bytes.data(), bytes.size());
  current_ = 1 - current_;
  size_ = static_cast<std::uint32_t>(bytes.size());
  return checker_.set_root(root());
}

Result<void> RootKeeper::open(ByteView factory_root) {
  // Loaded into the candidate half, then trusted there: a record that does not
  // parse is refused before the checker sees it.
  const MutableByteView into = half(1 - current_);
  Result<std::uint32_t> loaded = store_.load(into);
  if (!loaded.ok()) {
    if (loaded.error() != ErrorCode::kJournalEmpty) return loaded.error();
    if (factory_root.size() > into.size()) return ErrorCode::kJournalRecordTooLarge;
    UPDRAFT_TRY(manifest::parse_root(factory_root, candidate_));
    UPDRAFT_TRY(store_.store(factory_root));
    return trust(factory_root);
  }
  UPDRAFT_TRY(manifest::parse_root(into.first(*loaded), candidate_));
  return trust(into.first(*loaded));
}

Result<void> RootKeeper::install_root(ByteView root) {
  const manifest::RootMetadata* trusted = checker_.trusted_root();
  if (trusted == nullptr) return ErrorCode::kManifestMalformed;
  if (root.size() > max_root_ || root.size() > half(0).size())
    return ErrorCode::kJournalRecordTooLarge;
  UPDRAFT_TRY(manifest::parse_root(root, candidate_));
  UPDRAFT_TRY(manifest::verify_root_rotation(*trusted, candidate_, verifier_));
  // In flash first: from the moment store() returns, a reset finds the new root;
  // a cut before that finds the old one.
  UPDRAFT_TRY(store_.store(root));
  return trust(root);
}

}  // namespace updraft::agent
