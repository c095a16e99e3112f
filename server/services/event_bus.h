// Live events for the console and `updraft campaign status --watch`: services
// publish, every open server-sent-events stream receives. Thread-safe; a closed
// stream is dropped at the next publish.
//
// With several servers on one database, a relay (cluster_events.h) carries each
// event to the other servers' buses, which deliver() it to their own streams.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/host/event_sink.h"

namespace updraft::server {

// Carries this server's events to the other servers. forward() must not block
// for long: it runs on the publishing request's thread.
class EventRelay {
 public:
  virtual ~EventRelay() = default;
  virtual void forward(const std::string& type, const std::string& data) = 0;
};

class EventBus {
 public:
  void subscribe(std::shared_ptr<EventSink> sink);
  // To this server's subscribers and, through the relay if any, everyone else's.
  // `data` is one JSON object on one line.
  void publish(const std::string& type, const std::string& data);
  // To this server's subscribers only: an event another server published.
  void deliver(const std::string& type, const std::string& data);
  // Set once, before the server takes requests; the relay outlives the bus's use.
  void set_relay(EventRelay* relay) { relay_ = relay; }
  std::size_t subscribers() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<EventSink>> sinks_;
  EventRelay* relay_ = nullptr;
};

}  // namespace updraft::server
