// SLIP framing (RFC 1055) for a datagram link over a serial line: a device whose
// only link is a UART sends each CoAP message as one SLIP frame, and the modem
// (sim/modem/) carries each frame as one UDP datagram. Portable, no heap.
//
// A frame on the wire is END, the payload with every END byte sent as
// ESC ESC_END and every ESC byte as ESC ESC_ESC, then END. The leading END, as
// RFC 1055 recommends, ends whatever line noise the receiver has collected. The
// decoder skips the empty frames that back-to-back ENDs make, so an empty
// datagram cannot be carried (CoAP never sends one).
//
// RAM: encoding needs nothing beyond the caller's output (at most 2n + 2 bytes for
// n payload bytes), or none at all with a sink. SlipDecoder needs the caller's
// frame buffer, as long as the longest frame it accepts, and the object itself
// (16 bytes on Cortex-M0). Stack, measured on Cortex-M0 (-Os): next() 20 bytes,
// slip_encode() 96. Code: 449 bytes. Not thread-safe; one decoder per serial line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::agent::link {

inline constexpr std::byte kSlipEnd{0xC0};
inline constexpr std::byte kSlipEsc{0xDB};
inline constexpr std::byte kSlipEscEnd{0xDC};  // after ESC: a payload END
inline constexpr std::byte kSlipEscEsc{0xDD};  // after ESC: a payload ESC

// The most bytes a frame of `payload_size` bytes can take: every byte escaped.
constexpr std::size_t slip_max_encoded_size(std::size_t payload_size) {
  return 2 * payload_size + 2;
}

// The bytes the frame of `payload` takes, both ENDs included.
std::size_t slip_encoded_size(ByteView payload);

// Hands the frame of `payload` to `sink`, a callable taking a ByteView, in runs
// (END, stretches of the payload, escape pairs, END), so a UART driver can send a
// frame without a second buffer. The views are valid only during the call.
template <typename Sink>
void slip_encode_to(ByteView payload, Sink&& sink) {
  static constexpr std::array<std::byte, 1> kEnd{kSlipEnd};
  static constexpr std::array<std::byte, 2> kEscapedEnd{kSlipEsc, kSlipEscEnd};
  static constexpr std::array<std::byte, 2> kEscapedEsc{kSlipEsc, kSlipEscEsc};
  sink(ByteView(kEnd));
  std::size_t run = 0;  // start of the payload not yet handed out
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] != kSlipEnd && payload[i] != kSlipEsc) continue;
    if (i > run) sink(payload.subspan(run, i - run));
    sink(ByteView(payload[i] == kSlipEnd ? kEscapedEnd : kEscapedEsc));
    run = i + 1;
  }
  if (payload.size() > run) sink(payload.subspan(run));
  sink(ByteView(kEnd));
}

// Writes the frame of `payload` into `out` and returns its size. kTransportFailed
// when `out` is shorter than slip_encoded_size(payload); `out` is then untouched.
Result<std::size_t> slip_encode(ByteView payload, MutableByteView out);

// Turns a byte stream back into frames, fed in chunks of any size (one byte at a
// time from a UART interrupt, or whatever a read() returned).
class SlipDecoder {
 public:
  // Frames longer than `frame_buffer` are refused. The buffer must outlive the
  // decoder, and the frames next() returns live in it.
  explicit SlipDecoder(MutableByteView frame_buffer) : buffer_(frame_buffer) {}

  // Takes bytes from the front of `input`, advancing it, until a frame is
  // complete, and returns that frame: a view into the frame buffer, valid until
  // the next call. Returns an empty view when `input` ran out first; the partial
  // frame is kept for the next call.
  // kTransportMalformed when the frame being received outgrows the buffer or has
  // an ESC followed by anything but ESC_END or ESC_ESC. The error is reported
  // once, at the byte that shows it (`input` is advanced past it). The rest of
  // that frame is then skipped up to the next END, after which decoding resumes.
  Result<ByteView> next(ByteView& input);

  // Forgets a partial frame, e.g. when the line was reconnected.
  void reset() {
    length_ = 0;
    state_ = State::kData;
  }

 private:
  enum class State : std::uint8_t { kData, kEscape, kSkip };

  MutableByteView buffer_;
  std::size_t length_ = 0;  // bytes of the frame being received
  State state_ = State::kData;
};

}  // namespace updraft::agent::link
