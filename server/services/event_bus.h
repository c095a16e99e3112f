// Live events for the console and `updraft campaign status --watch`: services
// publish, every open server-sent-events stream receives. Thread-safe; a closed
// stream is dropped at the next publish.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/host/event_sink.h"

namespace updraft::server {

class EventBus {
 public:
  void subscribe(std::shared_ptr<EventSink> sink);
  // `data` is one JSON object on one line.
  void publish(const std::string& type, const std::string& data);
  std::size_t subscribers() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<EventSink>> sinks_;
};

}  // namespace updraft::server
