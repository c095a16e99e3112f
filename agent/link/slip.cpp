#include "agent/link/slip.h"

#include <cstring>

namespace updraft::agent::link {

std::size_t slip_encoded_size(ByteView payload) {
  std::size_t size = 2;
  for (const std::byte b : payload) size += (b == kSlipEnd || b == kSlipEsc) ? 2 : 1;
  return size;
}

Result<std::size_t> slip_encode(ByteView payload, MutableByteView out) {
  if (out.size() < slip_encoded_size(payload)) return ErrorCode::kTransportFailed;
  std::size_t size = 0;
  slip_encode_to(payload, [&](ByteView run) {
    std::memcpy(out.data() + size, run.data(), run.size());
    size += run.size();
  });
  return size;
}

Result<ByteView> SlipDecoder::next(ByteView& input) {
  while (!input.empty()) {
    std::byte b = input.front();
    input = input.subspan(1);
    switch (state_) {
      case State::kSkip:
        if (b == kSlipEnd) state_ = State::kData;
        continue;
      case State::kEscape:
        if (b == kSlipEscEnd) {
          b = kSlipEnd;
        } else if (b == kSlipEscEsc) {
          b = kSlipEsc;
        } else {
          // An END right after the ESC ends the bad frame itself, so the next
          // byte already starts a new one.
          state_ = b == kSlipEnd ? State::kData : State::kSkip;
          length_ = 0;
          return ErrorCode::kTransportMalformed;
        }
        state_ = State::kData;
        break;
      case State::kData:
        if (b == kSlipEnd) {
          if (length_ == 0) continue;  // the leading END of a frame, or line noise
          const ByteView frame(buffer_.data(), length_);
          length_ = 0;
          return frame;
        }
        if (b == kSlipEsc) {
          state_ = State::kEscape;
          continue;
        }
        break;
    }
    if (length_ == buffer_.size()) {
      state_ = State::kSkip;
      length_ = 0;
      return ErrorCode::kTransportMalformed;
    }
    buffer_[length_++] = b;
  }
  return ByteView();
}

}  // namespace updraft::agent::link
