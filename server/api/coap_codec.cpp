#include "server/api/coap_codec.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "core/codec.h"
#include "core/host/hex.h"
#include "crypto/constant_time.h"
#include "server/api/api_errors.h"

namespace updraft::server::api {
namespace {

// Names on the wire, by number: docs/formats/coap.md (the agent's Phase and
// network numbers). Index 0 of the phases is no phase.
constexpr std::array<std::string_view, 5> kNetworks = {"", "wifi", "ethernet", "cellular", "nbiot"};
constexpr std::array<std::string_view, 9> kPhases = {"",           "downloading", "verifying",
                                                     "installing", "rebooting",   "success",
                                                     "failure",    "rolled_back", "deferred"};

template <std::size_t N>
std::uint8_t number_of(const std::array<std::string_view, N>& names, std::string_view name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? 0 : static_cast<std::uint8_t>(it - names.begin());
}

// Reads fields in order; each read checks what is left and names its field.
class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  std::size_t at() const { return at_; }

  HostResult<ByteView> bytes(std::size_t n, std::string_view field) {
    if (n > in_.size() - at_) {
      return bad_request(std::string(field) + ": truncated (" + std::to_string(n) +
                         " bytes needed, " + std::to_string(in_.size() - at_) + " left)");
    }
    const ByteView out = in_.subspan(at_, n);
    at_ += n;
    return out;
  }
  HostResult<std::uint8_t> u8(std::string_view field) {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(1, field));
    return std::to_integer<std::uint8_t>(b[0]);
  }
  HostResult<std::uint16_t> u16(std::string_view field) {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(2, field));
    return load_le16(b.data());
  }
  HostResult<std::uint32_t> u32(std::string_view field) {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(4, field));
    return load_le32(b.data());
  }
  HostResult<std::uint64_t> u64(std::string_view field) {
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(8, field));
    return load_le64(b.data());
  }
  // A length byte, then min..max bytes of printable ASCII.
  HostResult<std::string> text(std::string_view field, std::size_t min, std::size_t max) {
    UPDRAFT_TRY_ASSIGN(const std::uint8_t length, u8(field));
    if (length < min || length > max) {
      return bad_request(std::string(field) + ": " + std::to_string(min) + ".." +
                         std::to_string(max) + " bytes, not " + std::to_string(length));
    }
    UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(length, field));
    std::string out(reinterpret_cast<const char*>(b.data()), b.size());
    for (char c : out) {
      if (c < 0x20 || c > 0x7e) return bad_request(std::string(field) + ": printable ASCII only");
    }
    return out;
  }
  HostResult<void> format() {
    UPDRAFT_TRY_ASSIGN(const std::uint8_t format, u8("format"));
    if (format != kCoapFormat)
      return bad_request("format: " + std::to_string(format) + " is not known (1 is)");
    return {};
  }
  // The MAC length and MAC that end check-ins and reports, then nothing more.
  HostResult<void> mac(CoapSender& sender) {
    sender.mac_covers = at_;
    UPDRAFT_TRY_ASSIGN(const std::uint8_t length, u8("mac length"));
    if (length != 0 && length != kCoapMacSize)
      return bad_request("mac length: 0 or 8, not " + std::to_string(length));
    if (length == kCoapMacSize) {
      UPDRAFT_TRY_ASSIGN(const ByteView b, bytes(kCoapMacSize, "mac"));
      sender.mac.emplace();
      std::copy(b.begin(), b.end(), sender.mac->begin());
    }
    return end();
  }
  HostResult<void> end() const {
    if (at_ != in_.size())
      return bad_request("payload: " + std::to_string(in_.size() - at_) + " bytes too many");
    return {};
  }

 private:
  ByteView in_;
  std::size_t at_ = 0;
};

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) { put<2>(v, store_le16); }
  void u32(std::uint32_t v) { put<4>(v, store_le32); }
  void u64(std::uint64_t v) { put<8>(v, store_le64); }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void text(std::string_view s, std::size_t max) {
    s = s.substr(0, max);
    u8(static_cast<std::uint8_t>(s.size()));
    bytes(as_bytes_view(s.data(), s.size()));
  }
  void mac(const std::optional<CoapMac>& mac) {
    u8(mac ? static_cast<std::uint8_t>(kCoapMacSize) : std::uint8_t{0});
    if (mac) bytes(*mac);
  }
  std::vector<std::byte>& out() { return out_; }

 private:
  template <std::size_t N, typename T>
  void put(T v, void (*store)(std::byte*, T)) {
    std::byte b[N];
    store(b, v);
    bytes(ByteView(b, N));
  }
  std::vector<std::byte> out_;
};

void write_check_in(Writer& w, const CoapCheckIn& in) {
  const DeviceStatusReport& s = in.request.status;
  w.u8(kCoapFormat);
  w.text(in.sender.device.value, kCoapMaxDeviceId);
  w.u64(in.request.nonce);
  w.u8(static_cast<std::uint8_t>(s.slot));
  w.u8(s.battery_percent < 0 ? kCoapUnknown : static_cast<std::uint8_t>(s.battery_percent));
  w.u8(number_of(kNetworks, s.network));
  HostResult<std::vector<std::byte>> hash = from_hex(s.image_sha256);
  std::array<std::byte, 32> digest{};
  if (hash.ok() && hash->size() == digest.size())
    std::copy(hash->begin(), hash->end(), digest.begin());
  w.bytes(digest);
  w.text(s.version, kCoapMaxVersion);
}

void write_report(Writer& w, const CoapReport& r) {
  w.u8(kCoapFormat);
  w.text(r.sender.device.value, kCoapMaxDeviceId);
  w.u32(r.deployment);
  w.u8(number_of(kPhases, r.report.phase));
  w.u8(r.report.progress < 0 ? kCoapUnknown : static_cast<std::uint8_t>(r.report.progress));
  w.u16(static_cast<std::uint16_t>(r.report.error));
  w.text(r.report.running_version, kCoapMaxVersion);
}

std::vector<std::byte> sealed(Writer& w, std::string_view key) {
  const CoapMac mac = coap_mac(key, w.out());
  w.mac(mac);
  return std::move(w.out());
}

}  // namespace

HostResult<CoapCheckIn> coap_check_in_from_bytes(ByteView payload) {
  Reader r(payload);
  CoapCheckIn in;
  DeviceStatusReport& s = in.request.status;
  UPDRAFT_TRY(r.format());
  UPDRAFT_TRY_ASSIGN(in.sender.device.value, r.text("device id", 1, kCoapMaxDeviceId));
  UPDRAFT_TRY_ASSIGN(in.request.nonce, r.u64("nonce"));
  UPDRAFT_TRY_ASSIGN(const std::uint8_t slot, r.u8("slot"));
  if (slot > 1) return bad_request("slot: 0 or 1, not " + std::to_string(slot));
  s.slot = slot;
  UPDRAFT_TRY_ASSIGN(const std::uint8_t battery, r.u8("battery"));
  if (battery > 100 && battery != kCoapUnknown)
    return bad_request("battery: 0..100 or 255 (unknown), not " + std::to_string(battery));
  s.battery_percent = battery == kCoapUnknown ? -1 : battery;
  UPDRAFT_TRY_ASSIGN(const std::uint8_t network, r.u8("network"));
  if (network >= kNetworks.size())
    return bad_request("network: 0..4, not " + std::to_string(network));
  s.network = kNetworks[network];
  UPDRAFT_TRY_ASSIGN(const ByteView hash, r.bytes(32, "image sha256"));
  s.image_sha256 = to_hex(hash);
  UPDRAFT_TRY_ASSIGN(s.version, r.text("version", 0, kCoapMaxVersion));
  UPDRAFT_TRY(r.mac(in.sender));
  return in;
}

HostResult<CoapReport> coap_report_from_bytes(ByteView payload) {
  Reader r(payload);
  CoapReport out;
  UPDRAFT_TRY(r.format());
  UPDRAFT_TRY_ASSIGN(out.sender.device.value, r.text("device id", 1, kCoapMaxDeviceId));
  UPDRAFT_TRY_ASSIGN(out.deployment, r.u32("deployment"));
  UPDRAFT_TRY_ASSIGN(const std::uint8_t phase, r.u8("phase"));
  if (phase == 0 || phase >= kPhases.size())
    return bad_request("phase: 1..8, not " + std::to_string(phase));
  out.report.phase = kPhases[phase];
  UPDRAFT_TRY_ASSIGN(const std::uint8_t progress, r.u8("progress"));
  if (progress > 100 && progress != kCoapUnknown)
    return bad_request("progress: 0..100 or 255 (unknown), not " + std::to_string(progress));
  out.report.progress = progress == kCoapUnknown ? -1 : progress;
  UPDRAFT_TRY_ASSIGN(const std::uint16_t error, r.u16("error"));
  out.report.error = error;
  UPDRAFT_TRY_ASSIGN(out.report.running_version, r.text("running version", 0, kCoapMaxVersion));
  UPDRAFT_TRY(r.mac(out.sender));
  return out;
}

HostResult<CoapCheckInAnswer> coap_answer_from_bytes(ByteView payload) {
  Reader r(payload);
  CoapCheckInAnswer out;
  UPDRAFT_TRY(r.format());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t flags, r.u8("flags"));
  if ((flags & ~(kCoapFlagUpdate | kCoapFlagForced)) != 0)
    return bad_request("flags: unknown bits in " + std::to_string(flags));
  out.update = (flags & kCoapFlagUpdate) != 0;
  out.forced = (flags & kCoapFlagForced) != 0;
  if (out.forced && !out.update) return bad_request("flags: forced without an update");
  UPDRAFT_TRY_ASSIGN(out.poll_seconds, r.u32("poll seconds"));
  if (!out.update) {
    UPDRAFT_TRY(r.end());
    return out;
  }
  UPDRAFT_TRY_ASSIGN(out.kind, r.u8("artifact kind"));
  if (out.kind != kCoapArtifactFull && out.kind != kCoapArtifactPatch)
    return bad_request("artifact kind: 1 or 2, not " + std::to_string(out.kind));
  UPDRAFT_TRY_ASSIGN(out.artifact_size, r.u32("artifact size"));
  UPDRAFT_TRY_ASSIGN(out.ref, r.text("artifact reference", 1, 255));
  for (char c : out.ref) {
    if (c < '0' || c > '9') return bad_request("artifact reference: decimal digits only");
  }
  UPDRAFT_TRY_ASSIGN(const std::uint16_t size, r.u16("manifest length"));
  if (size > kCoapMaxManifest)
    return bad_request("manifest length: at most 1024, not " + std::to_string(size));
  UPDRAFT_TRY_ASSIGN(const ByteView manifest, r.bytes(size, "manifest"));
  out.manifest.assign(manifest.begin(), manifest.end());
  UPDRAFT_TRY(r.end());
  return out;
}

std::vector<std::byte> coap_check_in_to_bytes(const CoapCheckIn& in) {
  Writer w;
  write_check_in(w, in);
  w.mac(in.sender.mac);
  return std::move(w.out());
}

std::vector<std::byte> coap_check_in_to_bytes(const CoapCheckIn& in, std::string_view key) {
  Writer w;
  write_check_in(w, in);
  return sealed(w, key);
}

std::vector<std::byte> coap_report_to_bytes(const CoapReport& report) {
  Writer w;
  write_report(w, report);
  w.mac(report.sender.mac);
  return std::move(w.out());
}

std::vector<std::byte> coap_report_to_bytes(const CoapReport& report, std::string_view key) {
  Writer w;
  write_report(w, report);
  return sealed(w, key);
}

HostResult<std::vector<std::byte>> coap_answer_to_bytes(const CoapCheckInAnswer& a) {
  Writer w;
  w.u8(kCoapFormat);
  w.u8(static_cast<std::uint8_t>((a.update ? kCoapFlagUpdate : 0) |
                                 (a.update && a.forced ? kCoapFlagForced : 0)));
  w.u32(a.poll_seconds);
  if (!a.update) return std::move(w.out());
  const bool digits =
      std::all_of(a.ref.begin(), a.ref.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (a.ref.empty() || a.ref.size() > 255 || !digits)
    return Error(ErrorCode::kInternal, "artifact reference: 1..255 digits, not \"" + a.ref + "\"");
  if (a.manifest.size() > kCoapMaxManifest) {
    return Error(ErrorCode::kInternal,
                 "manifest: " + std::to_string(a.manifest.size()) + " bytes, over 1024");
  }
  w.u8(a.kind);
  w.u32(a.artifact_size);
  w.text(a.ref, 255);
  w.u16(static_cast<std::uint16_t>(a.manifest.size()));
  w.bytes(a.manifest);
  return std::move(w.out());
}

CoapMac coap_mac(std::string_view key, ByteView covered) {
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(covered.data()), covered.size(), full, &size);
  CoapMac mac;
  std::transform(full, full + mac.size(), mac.begin(),
                 [](unsigned char c) { return std::byte{c}; });
  return mac;
}

bool coap_mac_matches(ByteView payload, const CoapSender& sender, std::string_view key) {
  if (!sender.mac || sender.mac_covers > payload.size()) return false;
  const CoapMac expected = coap_mac(key, payload.first(sender.mac_covers));
  return constant_time_equal(expected, *sender.mac);
}

}  // namespace updraft::server::api
