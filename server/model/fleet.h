// What the server knows about products, devices and releases. Plain values: the
// store persists them, the API turns them into JSON, server logic reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delta/format/patch_format.h"
#include "server/model/ids.h"

namespace updraft::server {

// What a device is told while its delta is being built (on this server or
// another): come back in a few seconds, or take the full image now.
enum class WhileDeltaBuilds : std::uint8_t { kRetry = 0, kFullImage = 1 };

struct Product {
  ProductId id;
  std::string name;  // unique; the `product` a manifest names (docs/formats/manifest.md)
  // The device class fixes the patch codec and window (delta::Profile) a delta
  // for this product is made with.
  delta::Profile profile = delta::Profile::kMcuTiny;
  // Flash layout of the product's devices: bytes per A/B slot and the erase unit.
  // A release larger than a slot is refused at upload.
  std::uint32_t slot_size = 0;
  std::uint32_t sector_size = 4096;
  // SHA-256 (hex) of the product-wide provisioning secret that lets a new device
  // register itself; empty: only the operator registers devices.
  std::string provisioning_secret_hash;
  UnixTime created_at = 0;
  WhileDeltaBuilds while_delta_builds = WhileDeltaBuilds::kRetry;
  // How long a device waits for its delta to be built before it is offered the
  // full image instead (the build goes on, for the devices after it); 0: as long
  // as the build takes. A rootfs-sized build can take minutes.
  std::uint32_t delta_budget_seconds = 0;
};

// What a device last said about itself at check-in.
struct DeviceStatusReport {
  std::string version;       // running version, "" before the first check-in
  std::string image_sha256;  // hex SHA-256 of the running image
  int slot = 0;
  int battery_percent = -1;  // -1: not reported (mains powered)
  std::string network;       // "wifi", "ethernet", "cellular", "nbiot" or ""
  UnixTime last_seen = 0;    // 0: never checked in
};

struct Device {
  DeviceId id;
  ProductId product;
  std::string hardware;  // the hardware id manifests list, e.g. "board-rev-b"
  std::string serial;    // serial number, e.g. "1234-5678-90aa"; EnOS sub-devices prove
                         // themselves with it (docs/api/enos.md); "" for none
  std::vector<std::string> tags;
  std::string secret_hash;  // SHA-256 (hex) of the per-device secret
  DeviceStatusReport status;
  UnixTime registered_at = 0;
  // Device tokens carry the generation they were issued in; replacing the secret
  // or decommissioning the device bumps it, and older tokens stop verifying.
  std::uint32_t token_generation = 0;
  // When the device was taken out of service: it gets no token and no update; the
  // record stays for history. 0: in service.
  UnixTime decommissioned_at = 0;
};

struct Release {
  ReleaseId id;
  ProductId product;
  std::string version;  // semver, unique per product
  std::uint32_t security_counter = 0;
  std::vector<std::string> hardware;  // compatible hardware ids
  bool allow_downgrade = false;
  std::uint64_t size = 0;
  std::string sha256;  // hex; the image's name in the artifact store
  std::string notes;
  // What devices that report free-text versions call it (EnOS, e.g. "v2.0.0.1");
  // "" when they use `version`.
  std::string enos_version;
  UnixTime created_at = 0;
  // A release made from a .mender file: the artifact's name, which Mender clients
  // report as what they run. "" for an Updraft image.
  std::string mender_artifact_name;
};

enum class DeltaState : std::uint8_t {
  kBuilding = 1,
  kReady = 2,
  kNotSmaller = 3,  // the patch would not be smaller than the image: serve the image
  kFailed = 4,
  kQueued = 5,  // waits in the build queue for a free worker (on any server)
};

// A cached patch from one image to another at one profile.
struct DeltaRecord {
  std::string from_sha256;
  std::string to_sha256;
  delta::Profile profile = delta::Profile::kMcuTiny;
  DeltaState state = DeltaState::kBuilding;
  std::uint64_t size = 0;  // patch bytes when kReady
  std::string error;       // why, when kFailed
  std::uint64_t hits = 0;
  UnixTime created_at = 0;
  UnixTime last_used_at = 0;
  std::uint64_t build_ms = 0;  // how long the build took, when kReady
};

}  // namespace updraft::server
