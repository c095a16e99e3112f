#include "core/host/hex.h"

namespace updraft {
namespace {

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    text.push_back(kDigits[std::to_integer<unsigned>(b) >> 4]);
    text.push_back(kDigits[std::to_integer<unsigned>(b) & 0xF]);
  }
  return text;
}

HostResult<std::vector<std::byte>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return Error(ErrorCode::kInvalidArgument, "hex text has an odd length");
  std::vector<std::byte> bytes(text.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error(ErrorCode::kInvalidArgument, "not hex: \"" + std::string(text) + "\"");
    bytes[i] = std::byte(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return bytes;
}

}  // namespace updraft
