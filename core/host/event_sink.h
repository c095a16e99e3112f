// A subscriber to a stream of named events: the console's server-sent-events
// stream (net/http implements it per connection) or the MQTT wake publisher.
// Producers (server/services/event_bus.h) hold sinks without knowing the
// transport behind them. Host only; send() may be called from any thread.
#pragma once

#include <string_view>

namespace updraft {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues one event of `type` with `data`; false once the subscriber is gone.
  virtual bool send(std::string_view type, std::string_view data) = 0;
  virtual bool closed() const = 0;
};

}  // namespace updraft
