#include "agent/coap/coap_message.h"

#include <cstring>

namespace updraft::agent::coap {
namespace {

constexpr std::byte kPayloadMarker{0xFF};

// An option delta or length as its 4-bit nibble and 0..2 extension bytes.
std::size_t encode_extended(std::uint32_t value, std::uint8_t& nibble, std::byte* ext) {
  if (value < 13) {
    nibble = static_cast<std::uint8_t>(value);
    return 0;
  }
  if (value < 269) {
    nibble = 13;
    ext[0] = static_cast<std::byte>(value - 13);
    return 1;
  }
  nibble = 14;
  const std::uint32_t v = value - 269;
  ext[0] = static_cast<std::byte>(v >> 8);
  ext[1] = static_cast<std::byte>(v & 0xFF);
  return 2;
}

// Reads a nibble's value, consuming extension bytes from `at`; false if malformed.
bool decode_extended(std::uint8_t nibble, ByteView data, std::size_t& at, std::uint32_t& value) {
  if (nibble < 13) {
    value = nibble;
    return true;
  }
  if (nibble == 13) {
    if (at + 1 > data.size()) return false;
    value = 13 + std::to_integer<std::uint32_t>(data[at]);
    at += 1;
    return true;
  }
  if (nibble == 14) {
    if (at + 2 > data.size()) return false;
    value = 269 + (std::to_integer<std::uint32_t>(data[at]) << 8 |
                   std::to_integer<std::uint32_t>(data[at + 1]));
    at += 2;
    return true;
  }
  return false;  // 15 is reserved (the payload marker in the header position)
}

// Walks the options region: calls `fn(number, value)` for each; false if malformed.
template <typename Fn>
bool walk_options(ByteView options, Fn&& fn) {
  std::size_t at = 0;
  std::uint32_t number = 0;
  while (at < options.size()) {
    const auto first = std::to_integer<std::uint8_t>(options[at++]);
    std::uint32_t delta = 0, length = 0;
    if (!decode_extended(first >> 4, options, at, delta)) return false;
    if (!decode_extended(first & 0x0F, options, at, length)) return false;
    if (length > options.size() - at) return false;
    number += delta;
    if (number > 0xFFFF) return false;
    if (!fn(number, options.subspan(at, length))) return true;
    at += length;
  }
  return true;
}

}  // namespace

Result<void> MessageWriter::put(ByteView data) {
  if (failed_ || data.size() > out_.size() - size_) {
    failed_ = true;
    return ErrorCode::kTransportMalformed;
  }
  if (!data.empty()) std::memcpy(out_.data() + size_, data.data(), data.size());
  size_ += data.size();
  return {};
}

Result<void> MessageWriter::header(Type type, std::uint8_t code, std::uint16_t message_id,
                                   ByteView token) {
  if (size_ != 0 || token.size() > kMaxTokenLength) {
    failed_ = true;
    return ErrorCode::kTransportMalformed;
  }
  const std::byte head[4] = {
      static_cast<std::byte>(1 << 6 | static_cast<std::uint8_t>(type) << 4 | token.size()),
      static_cast<std::byte>(code), static_cast<std::byte>(message_id >> 8),
      static_cast<std::byte>(message_id & 0xFF)};
  UPDRAFT_TRY(put(ByteView(head, 4)));
  return put(token);
}

Result<void> MessageWriter::option(std::uint16_t number, ByteView value) {
  if (number < last_option_ || value.size() > 1024) {
    failed_ = true;
    return ErrorCode::kTransportMalformed;
  }
  std::byte head[5];
  std::uint8_t delta_nibble = 0, length_nibble = 0;
  const std::size_t delta_ext =
      encode_extended(static_cast<std::uint32_t>(number - last_option_), delta_nibble, head + 1);
  const std::size_t length_ext = encode_extended(static_cast<std::uint32_t>(value.size()),
                                                 length_nibble, head + 1 + delta_ext);
  head[0] = static_cast<std::byte>(delta_nibble << 4 | length_nibble);
  UPDRAFT_TRY(put(ByteView(head, 1 + delta_ext + length_ext)));
  last_option_ = number;
  return put(value);
}

Result<void> MessageWriter::option_uint(std::uint16_t number, std::uint32_t value) {
  std::byte bytes[4];
  std::size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto b = static_cast<std::byte>((value >> shift) & 0xFF);
    if (n == 0 && b == std::byte{0}) continue;  // the shortest form drops leading zeros
    bytes[n++] = b;
  }
  return option(number, ByteView(bytes, n));
}

Result<void> MessageWriter::payload(ByteView data) {
  if (data.empty()) return {};
  UPDRAFT_TRY(put(ByteView(&kPayloadMarker, 1)));
  return put(data);
}

Result<Message> parse(ByteView datagram) {
  if (datagram.size() < 4) return ErrorCode::kTransportMalformed;
  const auto first = std::to_integer<std::uint8_t>(datagram[0]);
  if (first >> 6 != 1) return ErrorCode::kTransportMalformed;
  const std::size_t token_length = first & 0x0F;
  if (token_length > kMaxTokenLength || 4 + token_length > datagram.size())
    return ErrorCode::kTransportMalformed;
  Message m;
  m.type = static_cast<Type>(first >> 4 & 0x03);
  m.code = std::to_integer<std::uint8_t>(datagram[1]);
  m.message_id = static_cast<std::uint16_t>(std::to_integer<std::uint16_t>(datagram[2]) << 8 |
                                            std::to_integer<std::uint16_t>(datagram[3]));
  m.token = datagram.subspan(4, token_length);
  const ByteView rest = datagram.subspan(4 + token_length);
  // The options end at the payload marker, which a well-formed option never
  // starts with (both nibbles 15 are reserved).
  std::size_t at = 0;
  std::size_t end = rest.size();
  while (at < rest.size()) {
    if (rest[at] == kPayloadMarker) {
      end = at;
      break;
    }
    const auto head = std::to_integer<std::uint8_t>(rest[at++]);
    std::uint32_t delta = 0, length = 0;
    if (!decode_extended(head >> 4, rest, at, delta) ||
        !decode_extended(head & 0x0F, rest, at, length) || length > rest.size() - at) {
      return ErrorCode::kTransportMalformed;
    }
    at += length;
  }
  m.options = rest.subspan(0, end);
  if (end < rest.size()) {
    if (end + 1 == rest.size()) return ErrorCode::kTransportMalformed;  // marker, no payload
    m.payload = rest.subspan(end + 1);
  }
  std::uint32_t check = 0;
  if (!walk_options(m.options, [&](std::uint32_t, ByteView) { return ++check > 0; }))
    return ErrorCode::kTransportMalformed;
  return m;
}

bool find_option(const Message& message, std::uint16_t number, ByteView& value) {
  bool found = false;
  walk_options(message.options, [&](std::uint32_t n, ByteView v) {
    if (n != number) return n < number;  // options are sorted: stop once past it
    value = v;
    found = true;
    return false;
  });
  return found;
}

std::uint32_t decode_uint(ByteView value) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < value.size() && i < 4; ++i)
    v = v << 8 | std::to_integer<std::uint32_t>(value[i]);
  return v;
}

bool decode_block(ByteView value, Block& out) {
  if (value.size() > 3) return false;
  const std::uint32_t v = decode_uint(value);
  out.szx = static_cast<std::uint8_t>(v & 0x07);
  out.more = (v & 0x08) != 0;
  out.num = v >> 4;
  return out.szx != 7;
}

std::uint8_t szx_for(std::uint32_t block_size) {
  for (std::uint8_t szx = 0; szx < 7; ++szx) {
    if ((16u << szx) == block_size) return szx;
  }
  return 0xFF;
}

}  // namespace updraft::agent::coap
