// One direction of the modem's simulated radio link. Every datagram that goes on
// the air passes through one: it is counted, may be lost or get one bit flipped,
// occupies the channel for its serialisation time at the link's rate, and arrives
// a fixed latency later. Each channel draws from its own random stream, seeded,
// so a run is repeatable whatever the other direction does. Host only; not
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "core/bytes.h"

namespace updraft::sim {

struct Impairments {
  double loss_percent = 0;             // chance that a datagram is lost on the air
  double corrupt_percent = 0;          // chance that one random bit of a datagram flips
  std::chrono::milliseconds delay{0};  // one-way latency
  std::uint64_t rate_bps = 0;          // bits per second on the air; 0: no limit
};

struct AirCounters {
  std::uint64_t datagrams = 0;  // put on the air, lost ones included
  std::uint64_t bytes = 0;      // their payload bytes
  std::uint64_t dropped = 0;    // lost on the air
  std::uint64_t corrupted = 0;  // arrived with one bit flipped
  std::uint64_t overflows = 0;  // refused: the modem's buffer was full; never on the air
};

class AirChannel {
 public:
  using Clock = std::chrono::steady_clock;
  using Datagram = std::vector<std::byte>;

  // What may wait in the channel before datagrams are refused: a modem's buffer.
  static constexpr std::size_t kMaxQueuedBytes = 1 << 20;

  AirChannel(const Impairments& impairments, std::uint64_t seed);

  // Puts `datagram` on the air at `now`. It is sent once the channel has sent
  // what came before (at rate_bps, a lost datagram takes its airtime too) and
  // arrives `delay` after its last bit, unless it is lost.
  void send(ByteView datagram, Clock::time_point now);

  // When the next datagram arrives; Clock::time_point::max() when none is under way.
  Clock::time_point next_arrival() const;

  // Moves the next datagram that has arrived by `now` into `out`; false when none has.
  bool receive(Clock::time_point now, Datagram& out);

  // Everything still under way, at once and in order, as when the link is torn down.
  std::vector<Datagram> take_all();

  const AirCounters& counters() const { return counters_; }

 private:
  struct InFlight {
    Clock::time_point arrival;
    Datagram bytes;
  };

  bool chance(double percent);

  Impairments impairments_;
  std::mt19937_64 random_;
  AirCounters counters_;
  std::deque<InFlight> in_flight_;  // arrival times never decrease
  std::size_t queued_bytes_ = 0;
  Clock::time_point channel_free_{};  // when the last datagram's last bit is sent
};

}  // namespace updraft::sim
