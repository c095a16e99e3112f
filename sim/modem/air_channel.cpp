#include "sim/modem/air_channel.h"

#include <algorithm>
#include <utility>

namespace updraft::sim {

AirChannel::AirChannel(const Impairments& impairments, std::uint64_t seed)
    : impairments_(impairments), random_(seed) {}

// Our own mapping of the generator's bits to [0, 100): the standard
// distributions differ between library versions, and a seed should mean the same
// run everywhere.
bool AirChannel::chance(double percent) {
  const double draw = static_cast<double>(random_() >> 11) * 0x1.0p-53 * 100.0;
  return draw < percent;
}

void AirChannel::send(ByteView datagram, Clock::time_point now) {
  if (queued_bytes_ + datagram.size() > kMaxQueuedBytes) {
    ++counters_.overflows;
    return;
  }
  ++counters_.datagrams;
  counters_.bytes += datagram.size();

  // Both draws are made for every datagram, so the loss pattern of a seed does not
  // change with --corrupt, nor the corruption pattern with --loss.
  const bool lost = chance(impairments_.loss_percent);
  const bool corrupt = chance(impairments_.corrupt_percent) && !datagram.empty();

  const Clock::time_point start = std::max(now, channel_free_);
  channel_free_ = start;
  if (impairments_.rate_bps > 0) {
    channel_free_ +=
        std::chrono::nanoseconds(datagram.size() * 8 * 1'000'000'000ULL / impairments_.rate_bps);
  }
  if (lost) {
    ++counters_.dropped;
    return;
  }
  Datagram bytes(datagram.begin(), datagram.end());
  if (corrupt) {
    const std::uint64_t bit = random_() % (bytes.size() * 8);
    bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    ++counters_.corrupted;
  }
  queued_bytes_ += bytes.size();
  in_flight_.push_back({channel_free_ + impairments_.delay, std::move(bytes)});
}

AirChannel::Clock::time_point AirChannel::next_arrival() const {
  return in_flight_.empty() ? Clock::time_point::max() : in_flight_.front().arrival;
}

bool AirChannel::receive(Clock::time_point now, Datagram& out) {
  if (in_flight_.empty() || in_flight_.front().arrival > now) return false;
  out = std::move(in_flight_.front().bytes);
  in_flight_.pop_front();
  queued_bytes_ -= out.size();
  return true;
}

std::vector<AirChannel::Datagram> AirChannel::take_all() {
  std::vector<Datagram> all;
  for (InFlight& d : in_flight_) all.push_back(std::move(d.bytes));
  in_flight_.clear();
  queued_bytes_ = 0;
  return all;
}

}  // namespace updraft::sim
