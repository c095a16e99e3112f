#include "agent/coap/coap_message.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace updraft::agent::coap {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

ByteView text(const char* s) { return as_bytes_view(s, std::strlen(s)); }

// A confirmable GET /temperature with a one-byte token and a payload, laid out
// by hand from RFC 7252 section 3.
TEST(CoapMessageTest, EncodesTheHeaderOptionsAndPayloadAsTheRfcLaysThemOut) {
  std::array<std::byte, 64> buffer{};
  MessageWriter w(buffer);
  ASSERT_TRUE(w.header(Type::kConfirmable, kGet, 0x7d34, bytes({0x20})).ok());
  ASSERT_TRUE(w.option(kUriPath, text("temperature")).ok());
  ASSERT_TRUE(w.payload(text("hi")).ok());
  const Bytes expected = bytes({0x41, 0x01, 0x7d, 0x34, 0x20, 0xbb, 't', 'e',  'm', 'p',
                                'e',  'r',  'a',  't',  'u',  'r',  'e', 0xff, 'h', 'i'});
  EXPECT_EQ(Bytes(w.bytes().begin(), w.bytes().end()), expected);
}

TEST(CoapMessageTest, UsesExtendedDeltasAndLengthsForLargeNumbers) {
  std::array<std::byte, 600> buffer{};
  MessageWriter w(buffer);
  ASSERT_TRUE(w.header(Type::kNonConfirmable, kContent, 1, {}).ok());
  ASSERT_TRUE(w.option_uint(kBlock2, 0x1234).ok());     // delta 23: 13 + 10
  const Bytes long_value(300, std::byte{7});            // length 300: 269 + 31
  ASSERT_TRUE(w.option(kBlockCrc32, long_value).ok());  // delta 64981: 269 + ...
  Result<Message> m = parse(w.bytes());
  ASSERT_TRUE(m.ok());
  ByteView value;
  ASSERT_TRUE(find_option(*m, kBlock2, value));
  EXPECT_EQ(decode_uint(value), 0x1234u);
  ASSERT_TRUE(find_option(*m, kBlockCrc32, value));
  EXPECT_EQ(value.size(), 300u);
  EXPECT_FALSE(find_option(*m, kUriPath, value));
}

TEST(CoapMessageTest, RefusesOptionsOutOfOrderAndFullBuffers) {
  std::array<std::byte, 12> buffer{};
  MessageWriter w(buffer);
  ASSERT_TRUE(w.header(Type::kConfirmable, kGet, 1, {}).ok());
  ASSERT_TRUE(w.option(kBlock2, {}).ok());
  EXPECT_FALSE(w.option(kUriPath, text("a")).ok());
  MessageWriter small(buffer);
  ASSERT_TRUE(small.header(Type::kConfirmable, kGet, 1, {}).ok());
  EXPECT_FALSE(small.payload(text("a payload far too long")).ok());
}

// Property: whatever is written parses back to the same fields and options.
TEST(CoapMessageTest, RandomMessagesRoundTrip) {
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::array<std::byte, 2048> buffer{};
    MessageWriter w(buffer);
    Bytes token(rng() % 9);
    for (std::byte& b : token) b = static_cast<std::byte>(rng());
    const auto type = static_cast<Type>(rng() % 4);
    const auto code_value = static_cast<std::uint8_t>(rng());
    const auto id = static_cast<std::uint16_t>(rng());
    ASSERT_TRUE(w.header(type, code_value, id, token).ok());
    std::vector<std::pair<std::uint16_t, Bytes>> options;
    std::uint16_t number = 0;
    for (int o = static_cast<int>(rng() % 5); o > 0; --o) {
      number = static_cast<std::uint16_t>(number + rng() % 700);
      Bytes value(rng() % 40);
      for (std::byte& b : value) b = static_cast<std::byte>(rng());
      ASSERT_TRUE(w.option(number, value).ok());
      options.emplace_back(number, value);
    }
    Bytes payload(rng() % 300);
    for (std::byte& b : payload) b = static_cast<std::byte>(rng());
    ASSERT_TRUE(w.payload(payload).ok());
    Result<Message> m = parse(w.bytes());
    ASSERT_TRUE(m.ok()) << i;
    EXPECT_EQ(m->type, type);
    EXPECT_EQ(m->code, code_value);
    EXPECT_EQ(m->message_id, id);
    EXPECT_EQ(Bytes(m->token.begin(), m->token.end()), token);
    EXPECT_EQ(Bytes(m->payload.begin(), m->payload.end()), payload);
    for (const auto& [n, value] : options) {
      ByteView found;
      ASSERT_TRUE(find_option(*m, n, found)) << i;
      // A repeated number finds the first: compare with the first of that number.
      for (const auto& [n2, v2] : options) {
        if (n2 != n) continue;
        EXPECT_EQ(Bytes(found.begin(), found.end()), v2);
        break;
      }
    }
  }
}

// Property: no prefix or byte flip of a message crashes the parser; a parse that
// succeeds stays inside the datagram.
TEST(CoapMessageTest, TruncatedOrCorruptedMessagesNeverReadOutside) {
  std::array<std::byte, 64> buffer{};
  MessageWriter w(buffer);
  ASSERT_TRUE(w.header(Type::kConfirmable, kPost, 9, bytes({1, 2})).ok());
  ASSERT_TRUE(w.option(kUriPath, text("c")).ok());
  ASSERT_TRUE(w.option_uint(kBlock2, 0x36).ok());
  ASSERT_TRUE(w.payload(text("payload")).ok());
  const Bytes whole(w.bytes().begin(), w.bytes().end());
  for (std::size_t n = 0; n < whole.size(); ++n) {
    Result<Message> m = parse(ByteView(whole.data(), n));
    if (m.ok()) {
      EXPECT_LE(m->payload.data() + m->payload.size(), whole.data() + n);
    }
  }
  for (std::size_t i = 0; i < whole.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = whole;
      flipped[i] ^= static_cast<std::byte>(1 << bit);
      Result<Message> m = parse(flipped);
      if (!m.ok()) continue;
      ByteView value;
      (void)find_option(*m, kBlock2, value);
      EXPECT_LE(m->options.data() + m->options.size(), flipped.data() + flipped.size());
    }
  }
  EXPECT_FALSE(parse(bytes({0x40, 0x01, 0, 1, 0xff})).ok()) << "a marker with no payload";
  EXPECT_FALSE(parse(bytes({0x80, 0x01, 0, 1})).ok()) << "version 2";
  EXPECT_FALSE(parse(bytes({0x49, 0x01, 0, 1})).ok()) << "a token of 9 bytes";
}

TEST(CoapMessageTest, BlockOptionsCarryNumberMoreAndSize) {
  const Block b{1234, true, 4};
  std::array<std::byte, 16> buffer{};
  MessageWriter w(buffer);
  ASSERT_TRUE(w.header(Type::kAck, kContent, 1, {}).ok());
  ASSERT_TRUE(w.option_uint(kBlock2, b.value()).ok());
  Result<Message> m = parse(w.bytes());
  ASSERT_TRUE(m.ok());
  ByteView value;
  ASSERT_TRUE(find_option(*m, kBlock2, value));
  Block back;
  ASSERT_TRUE(decode_block(value, back));
  EXPECT_EQ(back.num, 1234u);
  EXPECT_TRUE(back.more);
  EXPECT_EQ(back.size(), 256u);
  EXPECT_FALSE(decode_block(bytes({0x0f}), back)) << "SZX 7 is reserved";
  EXPECT_EQ(szx_for(1024), 6);
  EXPECT_EQ(szx_for(64), 2);
  EXPECT_EQ(szx_for(100), 0xFF);
}

}  // namespace
}  // namespace updraft::agent::coap
