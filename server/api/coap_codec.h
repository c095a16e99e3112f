// The binary payloads of the CoAP device API (docs/formats/coap.md): the check-in,
// its answer, the report, and the 8-byte MAC that authenticates check-ins and
// reports over plain UDP. Fields are little-endian and explicit (core/codec.h);
// every length is checked before use, and a refusal is kApiBadRequest with a
// message that names the field first. Decoders take exactly what the encoders
// write, so a decoded payload encodes back to the same bytes. Host only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "server/services/update_service.h"

namespace updraft::server::api {

inline constexpr std::uint8_t kCoapFormat = 1;  // the first byte of every payload
inline constexpr std::size_t kCoapMacSize = 8;
inline constexpr std::size_t kCoapMaxDeviceId = 64;
inline constexpr std::size_t kCoapMaxVersion = 23;  // manifest::kMaxVersionSize
inline constexpr std::size_t kCoapMaxManifest = 1024;
inline constexpr std::uint8_t kCoapUnknown = 255;  // battery or progress not known
// Check-in answer flags; the other bits are zero.
inline constexpr std::uint8_t kCoapFlagUpdate = 1u << 0;
inline constexpr std::uint8_t kCoapFlagForced = 1u << 1;
// Artifact kinds in the check-in answer.
inline constexpr std::uint8_t kCoapArtifactFull = 1;
inline constexpr std::uint8_t kCoapArtifactPatch = 2;
// Option 65004 on every artifact block: CRC-32 (core/crc32.h) of the block's
// payload, 4 bytes little-endian. Elective and safe to forward (RFC 7252 5.4.6).
inline constexpr std::uint16_t kCoapBlockCrc32Option = 65004;
// The block sizes served: SZX 2..6, 64 to 1024 bytes (RFC 7959 section 2.2).
inline constexpr std::uint8_t kCoapMinSzx = 2;
inline constexpr std::uint8_t kCoapMaxSzx = 6;

using CoapMac = std::array<std::byte, kCoapMacSize>;

// Who a check-in or report says it comes from, and its proof over plain UDP.
struct CoapSender {
  DeviceId device;
  std::optional<CoapMac> mac;  // absent when the MAC length is 0 (over DTLS)
  std::size_t mac_covers = 0;  // the payload bytes the MAC is over: all before its length
};

struct CoapCheckIn {
  CoapSender sender;
  // The status (version, image_sha256 as lower-case hex, slot, battery_percent
  // with -1 unknown, network by name) and the nonce; channel is left "".
  CheckInRequest request;
};

struct CoapCheckInAnswer {
  bool update = false;
  bool forced = false;
  std::uint32_t poll_seconds = 0;
  // With an update:
  std::uint8_t kind = kCoapArtifactFull;
  std::uint32_t artifact_size = 0;
  std::string ref;  // decimal digits, for /a/<ref>
  std::vector<std::byte> manifest;
};

struct CoapReport {
  CoapSender sender;
  std::uint32_t deployment = 0;  // 0: the deployment last offered to the device
  // phase by name, progress (-1 unknown), error, running_version.
  DeviceReport report;
};

HostResult<CoapCheckIn> coap_check_in_from_bytes(ByteView payload);
HostResult<CoapReport> coap_report_from_bytes(ByteView payload);
// What a device decodes; here for clients in tests and tools.
HostResult<CoapCheckInAnswer> coap_answer_from_bytes(ByteView payload);

// The payload for `in`, ending with in.sender.mac as it is (none: length 0).
// Fields outside what the decoder accepts are the caller's bug: texts are cut to
// their maximum, an unknown network or phase is written as 0.
std::vector<std::byte> coap_check_in_to_bytes(const CoapCheckIn& in);
std::vector<std::byte> coap_report_to_bytes(const CoapReport& report);
// The same, ending with a MAC made under `key` (plain UDP); sender.mac is ignored.
std::vector<std::byte> coap_check_in_to_bytes(const CoapCheckIn& in, std::string_view key);
std::vector<std::byte> coap_report_to_bytes(const CoapReport& report, std::string_view key);
// kInternal for a reference that is not 1..255 digits or a manifest over 1024 bytes.
HostResult<std::vector<std::byte>> coap_answer_to_bytes(const CoapCheckInAnswer& answer);

// The first 8 bytes of HMAC-SHA256(key, covered). `key` is the device's key: the
// 64 lower-case hex characters of SHA-256(secret), as text.
CoapMac coap_mac(std::string_view key, ByteView covered);
// True when `sender` (decoded from `payload`) carries a MAC of `payload` under
// `key`; compared in constant time.
bool coap_mac_matches(ByteView payload, const CoapSender& sender, std::string_view key);

}  // namespace updraft::server::api
