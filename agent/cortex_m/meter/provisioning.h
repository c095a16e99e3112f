// The meter's factory provisioning page: who the device is and whom it trusts.
// Written once at the factory (here: host/meter_provision.cpp, loaded by QEMU at
// meter_map.h's kProvisioningAddress) and read in place from flash, so the trusted
// root and the keys cost no RAM. Portable code (no heap), used by the firmware and
// the host tool alike.
//
// Format (little-endian; a text is its length (1), its bytes and a NUL, so the
// firmware can hand it on as a C string; the root is its length (2) and its bytes):
//   magic "UPDV" (4) | format 1 (1) | device id (1..64) | MAC key (0..64: the hex
//   SHA-256 of the device secret, docs/formats/coap.md; empty over DTLS) | product
//   (1..64) | hardware (1..64) | trusted root metadata (1..3072) | CRC-32 of all before (4)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::meter {

// Texts are NUL-terminated in the page: device_id.data() is a C string.
struct Provisioning {
  std::string_view device_id;
  ByteView mac_key;
  std::string_view product;
  std::string_view hardware;
  ByteView trusted_root;
};

inline constexpr std::size_t kMaxProvisioningText = 64;
inline constexpr std::size_t kMaxTrustedRoot = 3072;

// Reads a page; the views point into `page`. kManifestMalformed when the magic,
// a length or the CRC is wrong (an unprovisioned, erased page among them).
Result<void> parse_provisioning(ByteView page, Provisioning& out);

// Writes `in` into `out` in the page format and returns the bytes used;
// kInvalidArgument for a field out of its bounds or an `out` too small.
Result<std::size_t> encode_provisioning(const Provisioning& in, MutableByteView out);

}  // namespace updraft::meter
