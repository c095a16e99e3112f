// Live events across updraftd processes on one PostgreSQL database: every event a
// server publishes reaches the console streams and MQTT wake-ups of all of them
// (docs/design.md, "Deploying at scale"). A relay for EventBus over a
// NotifyChannel: forward() only queues, and a sender thread packs queued events
// into as few NOTIFYs as fit (one line per event), so publishing never waits for
// the database. Each message names the server that sent it; a server's own
// messages come back to it and are skipped, since its bus delivered them already.
//
// At most once, like the channel: an event is lost when the database is
// unreachable, or past kMaxQueued events waiting to be sent. Host only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/host/error.h"
#include "server/services/event_bus.h"
#include "server/storage/postgres/notify_channel.h"

namespace updraft::server {

class ClusterEvents final : public EventRelay {
 public:
  static constexpr std::size_t kMaxQueued = 100000;
  static constexpr const char* kChannel = "updraft_events";

  // Listens for the other servers' events, which `bus` delivers, and relays this
  // server's: call bus.set_relay() with the result.
  static HostResult<std::unique_ptr<ClusterEvents>> start(const std::string& uri, EventBus& bus);
  ~ClusterEvents() override;

  void forward(const std::string& type, const std::string& data) override;
  std::uint64_t dropped() const;  // events lost to a full queue or a failed send

 private:
  explicit ClusterEvents(EventBus& bus) : bus_(bus) {}
  void receive(std::string_view payload);
  void send_loop();

  EventBus& bus_;
  std::string origin_;  // this server, in each message's first line
  std::unique_ptr<postgres::NotifyChannel> channel_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;  // "type\tdata" lines
  bool stopping_ = false;
  std::uint64_t dropped_ = 0;
  std::thread sender_;
};

}  // namespace updraft::server
