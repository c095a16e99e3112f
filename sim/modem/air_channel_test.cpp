#include "sim/modem/air_channel.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

namespace updraft::sim {
namespace {

using namespace std::chrono_literals;
using Clock = AirChannel::Clock;
using Datagram = AirChannel::Datagram;

Datagram numbered(std::uint32_t n, std::size_t size = 40) {
  Datagram d(size, std::byte{0x5A});
  for (std::size_t i = 0; i < 4; ++i) d[i] = static_cast<std::byte>(n >> (8 * i));
  return d;
}

std::uint32_t number_of(const Datagram& d) {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) n |= std::to_integer<std::uint32_t>(d[i]) << (8 * i);
  return n;
}

// Sends `count` numbered datagrams at one instant and returns what arrives.
std::vector<Datagram> pass(AirChannel& channel, int count) {
  const Clock::time_point t0{};
  for (int i = 0; i < count; ++i) channel.send(numbered(static_cast<std::uint32_t>(i)), t0);
  std::vector<Datagram> arrived;
  Datagram d;
  while (channel.receive(Clock::time_point::max() - 1h, d)) arrived.push_back(d);
  return arrived;
}

TEST(AirChannelTest, TheSameSeedLosesTheSameDatagrams) {
  const Impairments lossy{.loss_percent = 20};
  AirChannel a(lossy, 7), b(lossy, 7), c(lossy, 8);
  const std::vector<Datagram> from_a = pass(a, 1000);
  EXPECT_EQ(from_a, pass(b, 1000));
  EXPECT_NE(from_a, pass(c, 1000));
  // 20 % of 1000: the standard deviation is about 13 datagrams.
  EXPECT_GT(a.counters().dropped, 150u);
  EXPECT_LT(a.counters().dropped, 250u);
  EXPECT_EQ(from_a.size() + a.counters().dropped, 1000u);
  EXPECT_EQ(a.counters().datagrams, 1000u);
  EXPECT_EQ(a.counters().bytes, 1000u * 40);
  for (std::size_t i = 1; i < from_a.size(); ++i)
    ASSERT_LT(number_of(from_a[i - 1]), number_of(from_a[i])) << "order is kept";
}

TEST(AirChannelTest, CorruptionFlipsExactlyOneBit) {
  AirChannel channel({.corrupt_percent = 100}, 3);
  const std::vector<Datagram> arrived = pass(channel, 3000);
  ASSERT_EQ(arrived.size(), 3000u);
  EXPECT_EQ(channel.counters().corrupted, 3000u);
  std::vector<int> flipped_at(40 * 8);
  for (std::uint32_t i = 0; i < arrived.size(); ++i) {
    const Datagram sent = numbered(i);
    int bits = 0;
    for (std::size_t k = 0; k < sent.size(); ++k) {
      const auto diff = std::to_integer<std::uint8_t>(sent[k] ^ arrived[i][k]);
      bits += std::popcount(diff);
      if (diff != 0) ++flipped_at[k * 8 + static_cast<std::size_t>(std::countr_zero(diff))];
    }
    ASSERT_EQ(bits, 1) << "datagram " << i;
  }
  int never = 0;
  for (const int n : flipped_at) never += n == 0 ? 1 : 0;
  // 3000 flips over 320 bits leave a given bit unflipped with a chance of e^-9.4.
  EXPECT_LT(never, 3) << "the flipped bit is spread over the whole datagram";
}

TEST(AirChannelTest, DatagramsTakeTheirAirtimeOneAfterAnotherThenTheDelay) {
  // 100 bytes at 8000 bit/s: 100 ms each.
  AirChannel channel({.loss_percent = 0, .delay = 30ms, .rate_bps = 8000}, 1);
  const Clock::time_point t0 = Clock::now();
  for (std::uint32_t i = 0; i < 5; ++i) channel.send(numbered(i, 100), t0);
  for (int i = 1; i <= 5; ++i) {
    const Clock::time_point due = t0 + i * 100ms + 30ms;
    EXPECT_EQ(channel.next_arrival(), due);
    Datagram d;
    EXPECT_FALSE(channel.receive(due - 1ns, d));
    EXPECT_TRUE(channel.receive(due, d));
  }
  EXPECT_EQ(channel.next_arrival(), Clock::time_point::max());
  // An idle channel starts at once.
  channel.send(numbered(9, 100), t0 + 10s);
  EXPECT_EQ(channel.next_arrival(), t0 + 10s + 100ms + 30ms);
}

TEST(AirChannelTest, ALostDatagramStillTakesItsAirtime) {
  AirChannel channel({.loss_percent = 100, .rate_bps = 8000}, 1);
  const Clock::time_point t0 = Clock::now();
  channel.send(numbered(0, 100), t0);
  EXPECT_EQ(channel.next_arrival(), Clock::time_point::max());
  EXPECT_EQ(channel.counters().dropped, 1u);
  AirChannel same_air({.loss_percent = 0, .rate_bps = 8000}, 1);
  same_air.send(numbered(0, 100), t0);
  same_air.send(numbered(1, 100), t0);
  Datagram d;
  ASSERT_TRUE(same_air.receive(t0 + 100ms, d));
  EXPECT_EQ(same_air.next_arrival(), t0 + 200ms);
}

TEST(AirChannelTest, RefusesDatagramsBeyondItsBuffer) {
  AirChannel channel({.rate_bps = 1}, 1);  // nothing leaves during the test
  const Datagram big(AirChannel::kMaxQueuedBytes / 4);
  for (int i = 0; i < 5; ++i) channel.send(big, Clock::now());
  EXPECT_EQ(channel.counters().datagrams, 4u);
  EXPECT_EQ(channel.counters().overflows, 1u);
  EXPECT_EQ(channel.take_all().size(), 4u);
  channel.send(big, Clock::now());
  EXPECT_EQ(channel.counters().datagrams, 5u) << "taking all empties the buffer";
}

}  // namespace
}  // namespace updraft::sim
