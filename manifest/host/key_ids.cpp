#include "manifest/host/key_ids.h"

namespace updraft::manifest {

KeyId key_id_of(const PublicKey& key) { return key_id_of(ByteView(key.bytes)); }

std::string key_id_hex(const KeyId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::byte b : id) {
    hex += kDigits[std::to_integer<int>(b) >> 4];
    hex += kDigits[std::to_integer<int>(b) & 0xF];
  }
  return hex;
}

HostResult<KeyId> parse_key_id_hex(const std::string& text) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  KeyId id{};
  if (text.size() != 2 * id.size()) {
    return Error(ErrorCode::kInvalidArgument, "key id \"" + text + "\" must be " +
                                                  std::to_string(2 * id.size()) + " hex digits");
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error(ErrorCode::kInvalidArgument, "key id \"" + text + "\" is not hex");
    id[i] = std::byte(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return id;
}

}  // namespace updraft::manifest
