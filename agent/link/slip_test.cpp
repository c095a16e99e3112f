#include "agent/link/slip.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace updraft::agent::link {
namespace {

using Bytes = std::vector<std::byte>;

constexpr std::size_t kFrameBuffer = 256;

// Random payloads where half the bytes are the ones SLIP treats specially.
Bytes random_payload(std::mt19937& rng, std::size_t size) {
  static constexpr std::byte kSpecial[] = {kSlipEnd, kSlipEsc, kSlipEscEnd, kSlipEscEsc};
  Bytes payload(size);
  for (std::byte& b : payload) {
    b = rng() % 2 ? kSpecial[rng() % 4] : static_cast<std::byte>(rng());
  }
  return payload;
}

Bytes encode(const Bytes& payload) {
  Bytes out(slip_max_encoded_size(payload.size()));
  const Result<std::size_t> size = slip_encode(payload, out);
  EXPECT_TRUE(size.ok());
  out.resize(size.ok() ? *size : 0);
  return out;
}

void append(Bytes& stream, const Bytes& more) {
  stream.insert(stream.end(), more.begin(), more.end());
}

// What a decoder made of a stream: each frame, and each error as an empty entry.
struct Decoded {
  std::vector<Bytes> events;
  std::vector<Bytes> frames() const {
    std::vector<Bytes> only;
    for (const Bytes& e : events)
      if (!e.empty()) only.push_back(e);
    return only;
  }
  std::size_t errors() const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [](const Bytes& e) { return e.empty(); }));
  }
};

// Decodes `stream` cut into chunks of 0..max_chunk bytes (0: the whole stream at once).
Decoded decode(const Bytes& stream, std::mt19937& rng, std::size_t max_chunk) {
  Bytes buffer(kFrameBuffer);
  SlipDecoder decoder(buffer);
  Decoded out;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t chunk =
        max_chunk == 0 ? stream.size()
                       : std::min<std::size_t>(rng() % (max_chunk + 1), stream.size() - at);
    ByteView input(stream.data() + at, chunk);
    at += chunk;
    for (;;) {
      const std::size_t before = input.size();
      const Result<ByteView> frame = decoder.next(input);
      if (!frame.ok()) {
        EXPECT_EQ(frame.error(), ErrorCode::kTransportMalformed);
        out.events.emplace_back();
      } else if (!frame->empty()) {
        out.events.emplace_back(frame->begin(), frame->end());
      } else {
        EXPECT_TRUE(input.empty()) << "an empty answer means the input is used up";
        break;
      }
      EXPECT_LT(input.size(), before) << "every answer consumes at least one byte";
    }
  }
  return out;
}

TEST(SlipTest, RoundTripsRandomFramesFullOfEndAndEscBytes) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const Bytes payload = random_payload(rng, 1 + rng() % kFrameBuffer);
    const Bytes frame = encode(payload);
    ASSERT_EQ(frame.size(), slip_encoded_size(payload));
    ASSERT_LE(frame.size(), slip_max_encoded_size(payload.size()));
    // END appears only at both ends, so a receiver can always find frame edges.
    ASSERT_EQ(frame.front(), kSlipEnd);
    ASSERT_EQ(frame.back(), kSlipEnd);
    ASSERT_EQ(std::count(frame.begin() + 1, frame.end() - 1, kSlipEnd), 0);

    Bytes sunk;
    slip_encode_to(payload, [&](ByteView run) { sunk.insert(sunk.end(), run.begin(), run.end()); });
    ASSERT_EQ(sunk, frame) << "the sink and the buffer encoders agree";

    const Decoded decoded = decode(frame, rng, 0);
    ASSERT_EQ(decoded.events, std::vector<Bytes>{payload}) << "payload " << i;
  }
}

TEST(SlipTest, AnyChunkingOfTheStreamGivesTheSameFramesAndErrors) {
  std::mt19937 rng(2);
  for (int round = 0; round < 200; ++round) {
    Bytes stream;
    for (int f = 0; f < 20; ++f) {
      switch (rng() % 4) {
        case 0:  // an overlong frame
          append(stream, encode(random_payload(rng, kFrameBuffer + 1 + rng() % 50)));
          break;
        case 1:  // noise with a bad escape in it
          append(stream, random_payload(rng, rng() % 20));
          stream.push_back(kSlipEsc);
          stream.push_back(std::byte{'x'});
          append(stream, random_payload(rng, rng() % 20));
          break;
        default:
          append(stream, encode(random_payload(rng, 1 + rng() % kFrameBuffer)));
      }
    }
    const Decoded whole = decode(stream, rng, 0);
    for (const std::size_t max_chunk : {1, 2, 3, 7, 64, 1000}) {
      ASSERT_EQ(decode(stream, rng, max_chunk).events, whole.events)
          << "round " << round << ", chunks of up to " << max_chunk;
    }
  }
}

TEST(SlipTest, DropsGarbageAndOverlongFramesAndRecoversAtTheNextEnd) {
  std::mt19937 rng(3);
  for (int round = 0; round < 500; ++round) {
    std::vector<Bytes> sent;
    std::size_t bad = 0;
    Bytes stream;
    for (int f = 0; f < 12; ++f) {
      const Bytes payload = random_payload(rng, 1 + rng() % kFrameBuffer);
      switch (rng() % 5) {
        case 0:  // overlong: refused however it ends
          append(stream, encode(random_payload(rng, kFrameBuffer + 1 + rng() % 600)));
          ++bad;
          break;
        case 1: {  // a bad escape at a random place in a frame
          Bytes frame = encode(payload);
          // ESC END must end the frame (the END after it starts the next one),
          // ESC 'A' may go anywhere, even between another ESC and its partner.
          const bool with_end = rng() % 3 == 0;
          const std::size_t at = with_end ? frame.size() - 1 : 1 + rng() % (frame.size() - 1);
          const std::byte after = with_end ? kSlipEnd : std::byte{'A'};
          frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(at), {kSlipEsc, after});
          append(stream, frame);
          ++bad;
          break;
        }
        case 2:  // garbage overlong enough without any END, then a frame
          append(stream, Bytes(kFrameBuffer + 5, std::byte{0x55}));
          ++bad;
          [[fallthrough]];
        default:
          append(stream, encode(payload));
          sent.push_back(payload);
      }
    }
    const Decoded decoded = decode(stream, rng, 9);
    ASSERT_EQ(decoded.frames(), sent) << "round " << round;
    ASSERT_EQ(decoded.errors(), bad) << "round " << round;
  }
}

TEST(SlipTest, AcceptsAFrameThatFillsTheBufferAndRefusesOneByteMore) {
  std::mt19937 rng(4);
  const Bytes fits = random_payload(rng, kFrameBuffer);
  const Bytes too_long = random_payload(rng, kFrameBuffer + 1);
  Bytes stream = encode(too_long);
  append(stream, encode(fits));
  const Decoded decoded = decode(stream, rng, 0);
  EXPECT_EQ(decoded.frames(), std::vector<Bytes>{fits});
  EXPECT_EQ(decoded.errors(), 1u);
}

TEST(SlipTest, SkipsEmptyFramesAndTakesFramesWithoutALeadingEnd) {
  // RFC 1055's own sender ends frames with END but may not start them with one.
  const Bytes stream = {kSlipEnd, kSlipEnd,       std::byte{'h'}, std::byte{'i'}, kSlipEnd,
                        kSlipEnd, std::byte{'!'}, kSlipEsc,       kSlipEscEsc,    kSlipEnd};
  std::mt19937 rng(5);
  const Decoded decoded = decode(stream, rng, 0);
  EXPECT_EQ(decoded.events,
            (std::vector<Bytes>{{std::byte{'h'}, std::byte{'i'}}, {std::byte{'!'}, kSlipEsc}}));
}

TEST(SlipTest, EncodeRefusesAShortBufferAndLeavesItAlone) {
  const Bytes payload = {kSlipEnd, std::byte{1}};
  Bytes out(slip_encoded_size(payload) - 1, std::byte{0x77});
  const Result<std::size_t> size = slip_encode(payload, out);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error(), ErrorCode::kTransportFailed);
  EXPECT_EQ(std::count(out.begin(), out.end(), std::byte{0x77}),
            static_cast<std::ptrdiff_t>(out.size()));
}

TEST(SlipTest, ResetForgetsAPartialFrame) {
  Bytes buffer(kFrameBuffer);
  SlipDecoder decoder(buffer);
  const Bytes partial = {std::byte{'o'}, std::byte{'l'}, kSlipEsc};
  ByteView input(partial);
  ASSERT_TRUE(decoder.next(input).ok());
  decoder.reset();
  const Bytes rest = {std::byte{'n'}, kSlipEnd};
  input = ByteView(rest);
  const Result<ByteView> frame = decoder.next(input);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(Bytes(frame->begin(), frame->end()), Bytes{std::byte{'n'}});
}

}  // namespace
}  // namespace updraft::agent::link
