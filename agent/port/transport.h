// How the agent reaches the update server (portable). Implementations: HTTP on
// Linux (agent/posix), a modem's socket API on an MCU, a scripted server in tests.
// Every call is bounded: it returns, with data or an error, within the
// implementation's timeout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"
#include "manifest/manifest.h"

namespace updraft::agent {

enum class NetworkType : std::uint8_t {
  kUnknown = 0,
  kWifi = 1,
  kEthernet = 2,
  kCellular = 3,
  kNbIot = 4
};

inline constexpr std::size_t kMaxManifestBytes = 1024;
inline constexpr std::size_t kMaxArtifactRef = 96;
inline constexpr std::size_t kMaxText = 24;

struct DeviceStatus {
  std::array<char, kMaxText> version{};  // running version, NUL-terminated
  // SHA-256 of the running image: the server makes a delta from exactly this image.
  std::array<std::byte, 32> image_hash{};
  std::uint8_t slot = 0;  // running slot
  std::uint8_t battery_percent = 100;
  NetworkType network = NetworkType::kUnknown;
  std::uint64_t nonce = 0;  // fresh per check-in; the signed answer must echo it
  // The version of the root metadata the device trusts, so the server can send the
  // next one (docs/api/device.md); 0: the device keeps no root store and asks for none.
  std::uint32_t root_version = 0;
};

using manifest::ArtifactKind;

struct CheckInAnswer {
  bool update_available = false;
  ArtifactKind kind = ArtifactKind::kFullImage;
  std::array<char, kMaxArtifactRef> artifact{};  // what fetch() asks for (a URL path)
  std::uint32_t artifact_size = 0;
  std::uint32_t manifest_size = 0;
  std::array<std::byte, kMaxManifestBytes> manifest{};  // signed; the agent verifies it
  std::uint32_t poll_seconds = 3600;                    // when to check in next
  bool force = false;                                   // operator forced: skip user confirmation
  // Root rotation (agent/root_keeper.h): the agent points `root` at its root buffer
  // before each check-in (empty: it wants none), and a transport that received the
  // next root metadata writes it there and sets root_size (0: none). A transport
  // that resets the answer keeps `root`. Unverified here, like the manifest.
  MutableByteView root{};
  std::uint32_t root_size = 0;
};

enum class Phase : std::uint8_t {
  kDownloading = 1,
  kVerifying = 2,
  kInstalling = 3,
  kRebooting = 4,
  kSuccess = 5,
  kFailure = 6,
  kRolledBack = 7,
  kDeferred = 8,
};

// The phase's name on the wire and in logs: "downloading", "rolled_back", ...
constexpr const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kDownloading:
      return "downloading";
    case Phase::kVerifying:
      return "verifying";
    case Phase::kInstalling:
      return "installing";
    case Phase::kRebooting:
      return "rebooting";
    case Phase::kSuccess:
      return "success";
    case Phase::kFailure:
      return "failure";
    case Phase::kRolledBack:
      return "rolled_back";
    case Phase::kDeferred:
      return "deferred";
  }
  return "failure";
}

struct Report {
  Phase phase = Phase::kDownloading;
  std::uint8_t progress_percent = 0;
  std::uint16_t error = 0;               // ErrorCode number, 0 for none
  std::array<char, kMaxText> running{};  // the version the device runs now
  std::uint8_t running_slot = 0;
  std::array<char, kMaxText> target{};  // the version being installed
};

class Transport {
 public:
  virtual Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) = 0;
  // A ranged read of the artifact: fills a prefix of `out` with the bytes from
  // `offset` and returns how many (0 only at the end). A dropped link is an error
  // (kTransport*); the agent retries from where it is.
  virtual Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                                    MutableByteView out) = 0;
  virtual Result<void> report(const Report& report) = 0;
  // The unit the transport fetches in (CoAP's block size), or 0 for a stream
  // (HTTP ranges). With blocks, the agent journals every block, so a power cut
  // or a lost link resumes at the next missing one; a patch is then staged in
  // flash whole before it is applied, when the layout has room.
  virtual std::uint32_t block_size() const { return 0; }

 protected:
  ~Transport() = default;
};

}  // namespace updraft::agent
