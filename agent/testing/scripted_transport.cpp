#include "agent/testing/scripted_transport.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"

namespace updraft::agent {

void ScriptedTransport::set_offer(const CheckInAnswer& answer, std::vector<std::byte> artifact,
                                  Signer signer) {
  offer_ = true;
  answer_ = answer;
  answer_.update_available = true;
  artifact_ = std::move(artifact);
  signer_ = std::move(signer);
}

void ScriptedTransport::add_root(std::vector<std::byte> root) {
  // The root version: the body's first field (docs/formats/manifest.md).
  const std::uint32_t version = root.size() >= 12 ? load_le32(root.data() + 8) : 0;
  roots_[version] = std::move(root);
}

Result<void> ScriptedTransport::check_in(const DeviceStatus& status, CheckInAnswer& answer) {
  ++check_ins_;
  last_status_ = status;
  if (faults_.link_down) return ErrorCode::kTransportFailed;
  const MutableByteView root_buffer = answer.root;
  if (!offer_) {
    answer = CheckInAnswer{};
    answer.poll_seconds = 3600;
  } else {
    answer = answer_;
  }
  answer.root = root_buffer;
  answer.root_size = 0;
  // The next root after the device's, as updraftd answers (docs/api/device.md).
  if (const auto next = roots_.find(status.root_version + 1);
      status.root_version != 0 && next != roots_.end()) {
    if (next->second.size() > root_buffer.size()) return ErrorCode::kInternal;
    std::copy(next->second.begin(), next->second.end(), root_buffer.begin());
    answer.root_size = static_cast<std::uint32_t>(next->second.size());
    ++roots_served_;
  }
  if (!offer_) return {};
  if (signer_) {
    const std::vector<std::byte> manifest = signer_(status);
    if (manifest.size() > answer.manifest.size()) return ErrorCode::kInternal;
    std::copy(manifest.begin(), manifest.end(), answer.manifest.begin());
    answer.manifest_size = static_cast<std::uint32_t>(manifest.size());
  }
  if (faults_.corrupt_manifests > 0 && answer.manifest_size > 0) {
    --faults_.corrupt_manifests;
    answer.manifest[answer.manifest_size / 2] ^= std::byte{0x10};
  }
  return {};
}

Result<std::size_t> ScriptedTransport::fetch(const char* artifact, std::uint32_t offset,
                                             MutableByteView out) {
  if (faults_.down_after >= 0 && bytes_served_ >= static_cast<std::uint64_t>(faults_.down_after)) {
    faults_.link_down = true;
    faults_.down_after = -1;
  }
  if (faults_.link_down || !offer_ || std::strcmp(artifact, answer_.artifact.data()) != 0) {
    return ErrorCode::kTransportFailed;
  }
  std::size_t end = artifact_.size();
  if (faults_.truncate_at >= 0)
    end = std::min<std::size_t>(end, static_cast<std::size_t>(faults_.truncate_at));
  if (offset >= end) return std::size_t{0};
  std::size_t n = std::min(out.size(), end - offset);
  if (block_size_ != 0) n = std::min<std::size_t>(n, block_size_ - offset % block_size_);
  if (faults_.down_after >= 0) {
    n = std::min<std::size_t>(
        n, static_cast<std::size_t>(faults_.down_after - static_cast<std::int64_t>(bytes_served_)));
  }
  if (faults_.drop_every > 0) {
    if (since_drop_ >= faults_.drop_every) {
      since_drop_ = 0;
      return ErrorCode::kTransportFailed;
    }
    n = std::min<std::size_t>(n, faults_.drop_every - since_drop_);
    since_drop_ += static_cast<std::uint32_t>(n);
  }
  std::memcpy(out.data(), artifact_.data() + offset, n);
  if (faults_.corrupt_at >= offset && faults_.corrupt_at < static_cast<std::int64_t>(offset + n) &&
      faults_.corrupt_times != 0) {
    out[static_cast<std::size_t>(faults_.corrupt_at - offset)] ^= std::byte{0x5A};
    if (faults_.corrupt_times > 0) --faults_.corrupt_times;
  }
  bytes_served_ += n;
  return n;
}

Result<void> ScriptedTransport::report(const Report& report) {
  if (faults_.lose_reports > 0) {
    --faults_.lose_reports;
    return ErrorCode::kTransportFailed;
  }
  if (report.phase == Phase::kRolledBack && faults_.lose_rollbacks > 0) {
    --faults_.lose_rollbacks;
    return ErrorCode::kTransportFailed;
  }
  reports_.push_back(report);
  if (report.phase == Phase::kSuccess || report.phase == Phase::kRolledBack) offer_ = false;
  return {};
}

}  // namespace updraft::agent
