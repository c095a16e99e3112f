// CoAP messages (RFC 7252, section 3) and the Block2 option (RFC 7959), written
// into and read from caller buffers: what a device needs to speak CoAP without a
// heap. A parsed Message is a view into the datagram it came from. Portable.
// RAM: none beyond the caller's buffers; stack < 100 bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::agent::coap {

enum class Type : std::uint8_t { kConfirmable = 0, kNonConfirmable = 1, kAck = 2, kReset = 3 };

// A code is class.detail packed as class << 5 | detail, e.g. 2.05 = 0x45.
constexpr std::uint8_t code(std::uint8_t cls, std::uint8_t detail) {
  return static_cast<std::uint8_t>(cls << 5 | detail);
}
inline constexpr std::uint8_t kGet = code(0, 1);
inline constexpr std::uint8_t kPost = code(0, 2);
inline constexpr std::uint8_t kChanged = code(2, 4);
inline constexpr std::uint8_t kContent = code(2, 5);

// Option numbers (RFC 7252 table 4, RFC 7959) and ours (docs/formats/coap.md).
inline constexpr std::uint16_t kUriPath = 11;
inline constexpr std::uint16_t kBlock2 = 23;
inline constexpr std::uint16_t kBlockCrc32 = 65004;  // elective, safe to forward

inline constexpr std::size_t kMaxTokenLength = 8;

// Builds one message front to back. Options must come in ascending number
// order (the encoding stores deltas); payload() ends the message. Each call
// fails with kTransportMalformed when the buffer is full or the order is wrong,
// and the writer is then unusable.
class MessageWriter {
 public:
  explicit MessageWriter(MutableByteView out) : out_(out) {}

  Result<void> header(Type type, std::uint8_t code, std::uint16_t message_id, ByteView token);
  Result<void> option(std::uint16_t number, ByteView value);
  // An unsigned integer option in its shortest big-endian form (0 is empty).
  Result<void> option_uint(std::uint16_t number, std::uint32_t value);
  Result<void> payload(ByteView data);

  std::size_t size() const { return size_; }
  ByteView bytes() const { return ByteView(out_.data(), size_); }

 private:
  Result<void> put(ByteView data);

  MutableByteView out_;
  std::size_t size_ = 0;
  std::uint16_t last_option_ = 0;
  bool failed_ = false;
};

struct Message {
  Type type = Type::kConfirmable;
  std::uint8_t code = 0;
  std::uint16_t message_id = 0;
  ByteView token;
  ByteView options;  // the encoded options, for find_option()
  ByteView payload;
};

// Parses a datagram: version 1, a token of at most 8 bytes, well-formed option
// deltas and lengths, and a payload marker followed by at least one byte.
// kTransportMalformed otherwise.
Result<Message> parse(ByteView datagram);

// The value of the first option `number` of a parsed message; false when absent.
bool find_option(const Message& message, std::uint16_t number, ByteView& value);

// An unsigned integer option's value (at most 4 bytes, big-endian).
std::uint32_t decode_uint(ByteView value);

// Block1/Block2: the block number, whether more follow, and the size exponent
// (size = 16 << szx, 16..1024; szx 7 is reserved).
struct Block {
  std::uint32_t num = 0;
  bool more = false;
  std::uint8_t szx = 6;

  std::uint32_t size() const { return 16u << szx; }
  std::uint32_t value() const { return num << 4 | (more ? 8u : 0u) | szx; }
};

// False for a value longer than 3 bytes or a reserved size exponent.
bool decode_block(ByteView value, Block& out);

// The size exponent for a block size (16..1024, a power of two); 0xFF otherwise.
std::uint8_t szx_for(std::uint32_t block_size);

}  // namespace updraft::agent::coap
