// Leadership among updraftd processes sharing one PostgreSQL database: whoever
// holds a session-level advisory lock leads (the campaign scheduler ticks only
// there). The lock lives on a connection of its own, so it is released the moment
// its holder dies (kill -9 included: the server sees the connection drop), and
// another process's next try_acquire() gets it. Not thread-safe; one per process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/host/error.h"
#include "server/storage/postgres/connection.h"

namespace updraft::server::postgres {

class LeaderLock {
 public:
  // `key` names what is led (each role its own key).
  static HostResult<std::unique_ptr<LeaderLock>> open(const std::string& uri, std::int64_t key);

  // True while this process leads: takes the lock when it is free, keeps it once
  // held. An error (the connection lost) means not leading; the next call
  // reconnects and tries again.
  HostResult<bool> try_acquire();
  bool leading() const { return leading_; }

 private:
  LeaderLock(std::string uri, std::int64_t key) : uri_(std::move(uri)), key_(key) {}

  std::string uri_;
  std::int64_t key_;
  std::unique_ptr<Connection> connection_;
  bool leading_ = false;
};

// The campaign scheduler's key ("camp" in ASCII).
inline constexpr std::int64_t kSchedulerLeaderKey = 0x63616D70;

}  // namespace updraft::server::postgres
