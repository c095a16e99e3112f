// A Transport that serves one offer (and root metadata) from memory, with the faults a real link
// has: dropped connections every K bytes, corrupted bytes, an artifact cut short, a dead link. It
// records every report and counts the bytes it served. Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/port/transport.h"

namespace updraft::agent {

class ScriptedTransport final : public Transport {
 public:
  struct Faults {
    std::uint32_t drop_every = 0;   // fail the fetch after this many bytes since the last drop
    std::int64_t corrupt_at = -1;   // flip a byte of the artifact at this offset...
    int corrupt_times = -1;         // ...in this many fetches (-1: in every one)
    int corrupt_manifests = 0;      // flip a byte of this many check-in answers' manifests
    std::int64_t truncate_at = -1;  // the artifact ends here (server-side truncation)
    bool link_down = false;         // every call fails
    std::int64_t down_after = -1;   // the link dies once this many artifact bytes were served
    int lose_rollbacks = 0;         // fail this many rollback reports (lost: the offer stays)
    int lose_reports = 0;           // fail this many reports of any phase
  };

  // Signs the offer's manifest for one check-in, as a server does: the answer must
  // carry the nonce the device sent and a fresh expiry.
  using Signer = std::function<std::vector<std::byte>(const DeviceStatus& status)>;

  // No offer: check-ins answer "nothing to do".
  void clear_offer() { offer_ = false; }
  // Offers `artifact` until the device reports success or a rollback (the
  // deployment is then over, as on a server; offer again to retry).
  void set_offer(const CheckInAnswer& answer, std::vector<std::byte> artifact,
                 Signer signer = nullptr);
  bool offering() const { return offer_; }
  // Root metadata to serve: a device that checks in with root version N gets the
  // root of version N + 1 if one was added (with or without an offer).
  void add_root(std::vector<std::byte> root);
  int roots_served() const { return roots_served_; }
  Faults& faults() { return faults_; }
  // Serves the artifact in blocks of this size, as CoAP does (0: a stream).
  void set_block_size(std::uint32_t size) { block_size_ = size; }
  std::uint32_t block_size() const override { return block_size_; }

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;

  const std::vector<Report>& reports() const { return reports_; }
  const DeviceStatus& last_status() const { return last_status_; }
  std::uint64_t bytes_served() const { return bytes_served_; }
  int check_ins() const { return check_ins_; }

 private:
  bool offer_ = false;
  CheckInAnswer answer_{};
  std::vector<std::byte> artifact_;
  Signer signer_;
  Faults faults_;
  std::uint32_t block_size_ = 0;
  std::uint32_t since_drop_ = 0;
  std::uint64_t bytes_served_ = 0;
  int check_ins_ = 0;
  std::map<std::uint32_t, std::vector<std::byte>> roots_;
  int roots_served_ = 0;
  DeviceStatus last_status_{};
  std::vector<Report> reports_;
};

}  // namespace updraft::agent
